"""tools/cost"""
