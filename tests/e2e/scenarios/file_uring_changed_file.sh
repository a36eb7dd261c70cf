# e2e scenario file_uring_changed_file (run by tests/e2e/run.sh file_uring_changed_file, after lib.sh).
# Scenario changed_file, unchanged, with file reads and writes on io_uring on both
# sides (lib.sh: with_file_io_uring).
with_file_io_uring changed_file
