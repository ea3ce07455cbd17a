"""async"""
