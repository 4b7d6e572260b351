"""The stage graph (spec.py), dvc.yaml generated from it (dvcfile.py), and the in-process runner of sweeps."""
