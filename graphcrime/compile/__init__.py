"""graphcrime.compile"""
