"""graphcrime.rdf"""
