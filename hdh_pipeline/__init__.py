"""hdh-pipeline: French health databases in, public metadata catalogue out."""
