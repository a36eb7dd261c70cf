# e2e scenario file_uring_many_files (run by tests/e2e/run.sh file_uring_many_files, after lib.sh).
# Scenario many_files, unchanged, with file reads and writes on io_uring on both
# sides (lib.sh: with_file_io_uring).
with_file_io_uring many_files
