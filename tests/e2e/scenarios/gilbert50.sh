# e2e scenario gilbert50 (run by tests/e2e/run.sh gilbert50, after lib.sh).
# One 8000 KiB file (long enough for several bursts) through 2% loss in
# bursts of 50 datagrams on average (Gilbert–Elliott) on a 400 Mbit/s link
# with a 1 MB queue, sent with 32 blocks interleaved: a burst of 50 costs
# each block about two rows (sluice-tx(8), --interleave) (lib.sh:
# release_through_loss).
release_through_loss random:8000 "--rate 400M --queue 1M --loss 2% --burst 50 --seed 13" "--interleave 32"
