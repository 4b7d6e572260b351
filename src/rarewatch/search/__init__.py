"""`rarewatch-search`: an Optuna study over features x model family x hyper-parameters x smoothing.

One command runs (or resumes) a study described by a space file (conf/search/<name>.yaml), scores each
trial on validation folds only, and writes the best as conf/experiment/<name>_best.yaml, an ordinary
experiment that `dvc exp run -S +experiment=<name>_best` reproduces.

    space.py       the space file: pydantic models, errors naming the key
    sampling.py    a space walked into Hydra overrides (conditional dimensions)
    composing.py   conf/ composed with overrides, and the chosen group options
    checking.py    every sampled value composes and validates, before any trial runs
    objective.py   the validation figure of a run, the mean over folds
    trials.py      one trial: its folds through rarewatch.pipeline.inprocess.run_pipeline
    storage.py     the journal file: read-only, corrupt, locked
    study.py       the Optuna study: created or resumed, seeded sampler, which trials count
    experiment.py  the best trial as an experiment yaml, checked and written atomically
    progress.py    one line per trial, and a progress bar
    cli.py         main()
"""
