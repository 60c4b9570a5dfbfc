"""graphcrime.engine"""
