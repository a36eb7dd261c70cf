# e2e scenario bernoulli5 (run by tests/e2e/run.sh bernoulli5, after lib.sh):
# the body it shares with bernoulli1, gilbert50 is scenario_lossy in shared.sh.
scenario_lossy
