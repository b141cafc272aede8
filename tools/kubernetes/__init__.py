"""tools/kubernetes"""
