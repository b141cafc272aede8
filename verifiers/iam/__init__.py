"""verifiers/iam"""
