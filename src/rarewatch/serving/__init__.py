"""The chosen detector as an MLflow pyfunc model, and the commands that register and run it (docs/serving.md).

- bundle:        the directory the model carries (config, schema, encoder, detector, threshold, alarm policy);
- inputs:        raw rows in the training data's schema -> the canonical frame, with errors naming the column;
- scorer:        a bundle loaded from its own files (JSON, skops, torch weights only), scoring raw rows;
- model_code:    the pyfunc model, logged as code (models from code): no pickle of rarewatch objects;
- logged_model:  log the bundle as an MLflow model into a pipeline run (the track stage);
- register:      `rarewatch-register`: the best run of an experiment by validation cost -> alias `champion`;
- cli, stream:   `rarewatch score` on a file, or on a stream of rows from stdin.
"""
