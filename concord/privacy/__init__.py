"""Personal data: the installation's keys, sealing, and the operator's erasure, retention and
access requests.
"""
