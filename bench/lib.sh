# bench/lib.sh — shell functions shared by bench/run and bench/vpclink: logging, starting
# processes that are all stopped on exit, waiting for ports. Source it after setting OUT
# (the output directory; $OUT/run holds each process's stderr) and, optionally, SCRATCH
# (a directory under /dev/shm removed on exit).

T0=$SECONDS
log() { printf '[%4ds] %s\n' $((SECONDS - T0)) "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------- processes and cleanup
declare -a STARTED=()   # pids of everything this script started
declare -A PID=()       # name → pid
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if ((${#STARTED[@]})); then
		log "stopping ${#STARTED[@]} processes"
		for p in "${STARTED[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
		for _ in $(seq 50); do
			local alive=0
			for p in "${STARTED[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
			((alive)) || break
			sleep 0.1
		done
		for p in "${STARTED[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	fi
	[[ -n ${SCRATCH:-} && $SCRATCH == /dev/shm/gatehouse-bench.* ]] && rm -rf "$SCRATCH"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start NAME STDOUT CMD... — runs CMD in the background, remembers its pid.
start() {
	local name=$1 stdout=$2
	shift 2
	"$@" >"$stdout" 2>"$OUT/run/$name.err" &
	PID[$name]=$!
	STARTED+=("$!")
}

# wait_port HOST:PORT — until something accepts connections there (20 s at most).
wait_port() {
	local host=${1%:*} port=${1##*:} deadline=$((SECONDS + 20))
	until (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; do
		((SECONDS < deadline)) || return 1
		sleep 0.05
	done
}

port_free() { ! (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null; }

# tree_pids PID — PID and its descendants, comma-separated (for perf -p).
tree_pids() {
	ps -e -o pid=,ppid= | awk -v root="$1" '{p[$1]=$2} END {
		keep[root]=1; changed=1
		while (changed) { changed=0; for (c in p) if (!(c in keep) && (p[c] in keep)) { keep[c]=1; changed=1 } }
		n=0; for (k in keep) out = out (n++ ? "," : "") k; print out }'
}
