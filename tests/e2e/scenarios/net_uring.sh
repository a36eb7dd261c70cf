# e2e scenario net_uring (run by tests/e2e/run.sh net_uring, after lib.sh).
# Both links on io_uring (io=uring), through 2% loss, with sluice-rx's
# sandbox on (lib.sh: release_over_uring_link).
release_over_uring_link "io=uring" "io=uring" "--rate 400M --queue 1M --loss 2% --seed 21"
