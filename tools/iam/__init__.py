"""tools/iam"""
