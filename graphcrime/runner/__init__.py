"""graphcrime.runner"""
