# Shell helpers shared by hack/apiserver.sh and hack/cluster.sh (sourced; the
# sourcing script defines die).

# free_port [SPAN]: a TCP port in 20000..20000+SPAN-1 (default 40000) on which
# nothing listens or lingers (per /proc/net/tcp*), and which this shell has not
# handed out already. There is a small race with other processes: callers
# retry with new ports if a process fails to come up.
USED_PORTS=" "
free_port() {
  local span="${1:-40000}" used=" " port i _ local_addr
  while read -r _ local_addr _; do
    if [[ $local_addr == *:* ]]; then used+="$((16#${local_addr##*:})) "; fi
  done < <(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null)
  for ((i = 0; i < 200; i++)); do
    port=$((20000 + (RANDOM * 32768 + RANDOM) % span))
    [[ $used == *" $port "* || $USED_PORTS == *" $port "* ]] && continue
    USED_PORTS+="$port "
    echo "$port"
    return
  done
  die "no free port found"
}
