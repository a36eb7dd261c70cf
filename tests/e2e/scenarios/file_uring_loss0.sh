# e2e scenario file_uring_loss0 (run by tests/e2e/run.sh file_uring_loss0, after lib.sh).
# Scenario loss0, unchanged, with file reads and writes on io_uring on both
# sides (lib.sh: with_file_io_uring).
with_file_io_uring loss0
