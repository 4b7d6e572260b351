"""One module per DVC stage: main() reads the config and the files, run() does the work without files."""
