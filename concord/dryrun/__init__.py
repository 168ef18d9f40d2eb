"""The flow without a broker: the dry run of `concord playbooks test` and the playbooks'
examples.
"""
