# e2e scenario net_uring_zc (run by tests/e2e/run.sh net_uring_zc, after lib.sh).
# Both links on io_uring, through 2% loss, with sluice-rx's sandbox on:
# sluice-tx sends zero-copy (zc=1), sluice-rx takes one datagram per
# receive buffer (gro=0) (lib.sh: release_over_uring_link).
release_over_uring_link "io=uring&zc=1" "io=uring&gro=0" "--rate 400M --queue 1M --loss 2% --seed 21"
