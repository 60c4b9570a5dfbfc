"""graphcrime.sparql"""
