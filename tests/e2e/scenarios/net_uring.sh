# e2e scenario net_uring (run by tests/e2e/run.sh net_uring, after lib.sh):
# the body it shares with net_uring_zc is scenario_net_uring in shared.sh.
scenario_net_uring
