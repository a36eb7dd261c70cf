# e2e scenario bernoulli1 (run by tests/e2e/run.sh bernoulli1, after lib.sh):
# the body it shares with bernoulli5, gilbert50 is scenario_lossy in shared.sh.
scenario_lossy
