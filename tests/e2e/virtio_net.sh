#!/usr/bin/env bash
# End-to-end: virtio-net with the user-mode (libslirp) back end under a
# real Linux guest on the emu engine, with real clients on both sides.
#  1. The guest gets its address by DHCP (busybox udhcpc, with a script
#     written by the workload: the initramfs has no default one) and
#     downloads a random file with busybox wget from an HTTP server
#     (python3 -m http.server) on the host's 127.0.0.1, through slirp's
#     gateway 10.0.2.2; its sha256 must equal the host's.
#  2. Port forwarding: --net user,hostfwd=tcp:127.0.0.1:HOSTPORT-:7777; the
#     guest listens with busybox nc, the host connects with a python3
#     socket (retrying while the guest boots), and each side must receive
#     the other's random token.
# Traffic goes only to 127.0.0.1 and the slirp network.
#
# usage: virtio_net.sh BRUME
brume=$1
. "$(cd "$(dirname "$0")" && pwd)/virtio_lib.sh"
need python3 sha256sum
e2e_kernel

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

mkdir -p "$tmp/www"
head -c 200000 /dev/urandom > "$tmp/www/blob.bin"
want=$(sha256sum < "$tmp/www/blob.bin" | cut -d' ' -f1)
http_port=$(free_port)
# Bounded lifetime, and killed on exit whatever happens.
timeout 1700 python3 -m http.server --bind 127.0.0.1 --directory "$tmp/www" "$http_port" \
  >"$tmp/http.log" 2>&1 &
http_pid=$!
cleanup_hooks+=("kill $http_pid 2>/dev/null; wait $http_pid 2>/dev/null")
up=0
for _ in $(seq 50); do
  if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$http_port),1)" 2>/dev/null; then up=1; break; fi
  sleep 0.2
done
[ $up = 1 ] || { echo "FAIL: the host's HTTP server did not start on 127.0.0.1:$http_port"; cat "$tmp/http.log"; exit 1; }

fwd_port=$(free_port)
host_token=host-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
guest_token=guest-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')

cat > "$tmp/net.sh" <<'N'
#!/bin/sh
cat > /tmp/dhcp.sh <<'S'
#!/bin/sh
case "$1" in
  deconfig) ifconfig "$interface" 0.0.0.0 up ;;
  bound|renew)
    ifconfig "$interface" "$ip" netmask "${subnet:-255.255.255.0}" up
    route add default gw "$router" dev "$interface"
    echo "g: dhcp $ip router $router" > /dev/console ;;
esac
S
chmod +x /tmp/dhcp.sh
ifconfig lo 127.0.0.1 up
udhcpc -i eth0 -s /tmp/dhcp.sh -q -n -t 5 -T 3 >/dev/null 2>&1 || echo "g: dhcp failed"
if wget -q -O /tmp/blob http://10.0.2.2:@HTTP_PORT@/blob.bin; then
  echo "g: download $(wc -c < /tmp/blob) $(sha256sum < /tmp/blob | cut -d' ' -f1)"
else
  echo "g: download failed"
fi
echo "g: listening on 7777"
echo "@GUEST_TOKEN@" | timeout 900 nc -l -p 7777 > /tmp/got
echo "g: received $(head -n1 /tmp/got)"
N
sed -i -e "s/@HTTP_PORT@/$http_port/" -e "s/@GUEST_TOKEN@/$guest_token/" "$tmp/net.sh"

# The host's client: slirp accepts on the forwarded port as soon as brume
# starts and closes the connection while nothing listens in the guest, so
# connect again until the guest's answer arrives.
cat > "$tmp/client.py" <<'P'
import socket, sys, time
port, token = int(sys.argv[1]), sys.argv[2]
deadline = time.time() + 1500
tries = 0
while time.time() < deadline:
    tries += 1
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.settimeout(120)
        s.sendall(token.encode() + b"\n")
        s.shutdown(socket.SHUT_WR)
        data = b""
        while True:
            c = s.recv(4096)
            if not c:
                break
            data += c
        s.close()
        if data:
            print(data.decode(errors="replace").strip())
            print("tries", tries, file=sys.stderr)
            sys.exit(0)
    except OSError:
        pass
    time.sleep(2)
print("no answer after", tries, "connections", file=sys.stderr)
sys.exit(1)
P
python3 "$tmp/client.py" "$fwd_port" "$host_token" >"$tmp/client.out" 2>"$tmp/client.err" &
client_pid=$!
cleanup_hooks+=("kill $client_pid 2>/dev/null")

fail=0
e2e_boot net "$tmp/net.sh" --net "user,hostfwd=tcp:127.0.0.1:$fwd_port-:7777" || fail=1
# brume is gone: the client either has its answer or stops trying now.
# (Polled here, not with a background "sleep; kill" subshell: killing that
# subshell right after its fork ran the EXIT trap inside it, see
# virtio_lib.sh.)
for _ in $(seq 50); do kill -0 $client_pid 2>/dev/null || break; sleep 0.2; done
kill $client_pid 2>/dev/null
wait $client_pid; client_rc=$?

dhcp=$(g_value net dhcp)
case "$dhcp" in
  10.0.2.*" router 10.0.2.2") ;;
  *) echo "FAIL: DHCP in the guest gave '${dhcp:-nothing}', expected 10.0.2.x with router 10.0.2.2"; fail=1 ;;
esac
got=$(g_value net download)
if [ "$got" != "200000 $want" ]; then
  echo "FAIL: the guest's wget from 10.0.2.2:$http_port gave '${got:-nothing}', expected '200000 $want'"; fail=1
else
  echo "host: the guest downloaded blob.bin intact (sha256 $want)"
fi
grep -q 'GET /blob.bin' "$tmp/http.log" || { echo "FAIL: the host's HTTP server saw no GET /blob.bin"; fail=1; }
recv=$(g_value net received)
[ "$recv" = "$host_token" ] || { echo "FAIL: through hostfwd the guest received '${recv:-nothing}', the host sent '$host_token'"; fail=1; }
answer=$(head -n1 "$tmp/client.out")
if [ $client_rc -ne 0 ] || [ "$answer" != "$guest_token" ]; then
  echo "FAIL: through hostfwd 127.0.0.1:$fwd_port the host received '${answer:-nothing}' (client status $client_rc: $(cat "$tmp/client.err")), the guest sent '$guest_token'"; fail=1
else
  echo "host: hostfwd 127.0.0.1:$fwd_port -> guest 7777: both tokens crossed ($(cat "$tmp/client.err"))"
fi
[ $fail -eq 0 ] && echo "PASS"
exit $fail
