# e2e scenario net_uring_zc (run by tests/e2e/run.sh net_uring_zc, after lib.sh):
# the body it shares with net_uring is scenario_net_uring in shared.sh.
scenario_net_uring
