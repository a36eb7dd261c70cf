# e2e scenario gilbert50 (run by tests/e2e/run.sh gilbert50, after lib.sh):
# the body it shares with bernoulli1, bernoulli5 is scenario_lossy in shared.sh.
scenario_lossy
