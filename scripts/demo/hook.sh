#!/bin/bash
# Called by the phone's sipp scenario (exec command="[$hook] STEP ..."), inside
# the access namespace: notes the time of each step in WORK/events, changes the
# phone's address, starts and stops the phone's media engine. WORK/env (written
# by handover-demo.sh) says what to change.
#   hook.sh WORK registered|callup RMIP RMPORT|lose|gain CALL_ID|reregistered|
#               forge CALL_ID|hungup
work=$1
step=$2
# shellcheck source=/dev/null
. "$work/env"
note() { echo "$1 $EPOCHREALTIME" >>"$work/events"; }
case $step in
callup)
	note callup
	/usr/bin/python3 "$DEMO_DIR/rtpphone.py" --port "$RTP_PORT" --remote "$3:$4" \
		--audio "$work/audio.alaw" --log "$work/rtpphone.log" --stop-file "$work/rtpphone.stop" \
		--max-seconds 90 >>"$work/rtpphone.err" 2>&1 &
	echo $! >"$work/rtpphone.pid"
	;;
lose)
	# LTE gone: the address disappears, and with it the route toward the core
	# that used it as its source (sends fail, as on a phone without network).
	ip addr del "$IP_LTE/24" dev "$TAP_A"
	note lost
	;;
gain)
	# Wi-Fi up: a new address, and the route toward the core uses it.
	ip -batch - <<-EOF
		addr add $IP_WIFI/24 dev $TAP_A
		route replace $CORE_NET dev $TAP_A src $IP_WIFI
	EOF
	note gained
	# Tell the phone's SIP stack, as a phone's network manager would: a NOTIFY
	# over loopback that the scenario waits for (never leaves the namespace;
	# sipp strips the "net///" Call-ID prefix and finds the call). It then
	# re-registers at once, not after a guessed pause.
	printf -v msg 'NOTIFY sip:phone@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-net-%s\r\nFrom: <sip:netmgr@127.0.0.1>;tag=net\r\nTo: <sip:phone@127.0.0.1>\r\nCall-ID: net///%s\r\nCSeq: 1 NOTIFY\r\nEvent: x-network-up\r\nContent-Length: 0\r\n\r\n' \
		"$$" "$3"
	# One datagram (bash's /dev/udp would send one per line); perl-base is always there.
	perl -MSocket -e 'socket(my $s, PF_INET, SOCK_DGRAM, 0) or die "socket: $!";
		send($s, $ARGV[0], 0, pack_sockaddr_in(5060, inet_aton("127.0.0.1"))) or die "send: $!"' "$msg"
	;;
forge)
	note forge
	/usr/bin/python3 "$DEMO_DIR/forge.py" "$work" "$3" >>"$work/forge.log" 2>&1 &
	;;
hungup)
	note hungup
	touch "$work/rtpphone.stop"
	;;
*)
	note "$step"
	;;
esac
