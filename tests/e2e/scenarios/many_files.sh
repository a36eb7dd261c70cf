# e2e scenario many_files (run by tests/e2e/run.sh many_files, after lib.sh).
# Hundreds of small files, empty ones among them: a chunk spans many
# files, and files span chunks (the read-ahead and the batched writes).
mkdir -p "$W/T/data/d"
i=0
while [ $i -lt 700 ]; do
    case $((i % 50)) in
    7) : > "$W/T/data/d/f$i" ;;
    13) head -c 400000 /dev/urandom > "$W/T/data/d/f$i" ;;
    *) head -c $(( (i * 937) % 3000 + 1 )) /dev/urandom > "$W/T/data/d/f$i" ;;
    esac
    i=$((i + 1))
done
transfer_to_rx T 1 none
send T "$P" --rate "$RATE"
wait_for "released $id" 30 || fail "not released"
check_identical T "$id"
only_released "$id"
