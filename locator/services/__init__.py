"""Framework-free request handlers (OGC API - Features, embed, oEmbed): plain data in, plain data
out.
"""
