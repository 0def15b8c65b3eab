#!/usr/bin/env bash
# The main job on a fresh machine: set up, train the default model if it is missing,
# then label the sample article and show each sentence with its label.
source "$(dirname "$0")/bootstrap.sh"
"$VENV/bin/factsep" label data/sample-article.txt --format table "$@"
