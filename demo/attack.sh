#!/usr/bin/env bash
# Prints the demo's attack, as the hosts of a provincial portal would log it, with
# timestamps of the last few minutes (local time, as RFC 3164 syslog and nginx write
# them). One attacker (185.220.101.7, a documentation-like address from a Tor exit range)
#   1. sprays and brute-forces SSH on portal-01 (invalid users, then root),
#   2. logs in as `deploy` with a guessed password,
#   3. escalates: sudo to a root shell, adds a user, puts it in the sudo group;
#   4. meanwhile probes the public portal: scanner user agents, SQL injection, path
#      traversal, a web shell upload;
#   5. and port-scans the edge firewall.
# Each line is newline-framed syslog (auth, kernel) or an nginx access line.
set -euo pipefail
ATT=185.220.101.7
now=$(date +%s)
t() { date -d "@$((now - 600 + $1))" '+%b %e %H:%M:%S'; }          # syslog time, N s into the attack
tw() { date -d "@$((now - 600 + $1))" '+%d/%b/%Y:%H:%M:%S %z'; }     # nginx time
pid=4100
i=0
for user in admin oracle test ubuntu postgres guest support git ftpuser deploy2; do
  i=$((i + 2)); pid=$((pid + 1))
  echo "<38>$(t $i) portal-01 sshd[$pid]: Invalid user $user from $ATT port $((40000 + i))"
  echo "<38>$(t $i) portal-01 sshd[$pid]: Failed password for invalid user $user from $ATT port $((40000 + i)) ssh2"
done
for n in $(seq 1 8); do
  i=$((i + 3)); pid=$((pid + 1))
  echo "<38>$(t $i) portal-01 sshd[$pid]: Failed password for root from $ATT port $((41000 + n)) ssh2"
done
i=$((i + 5)); pid=$((pid + 1))
echo "<38>$(t $i) portal-01 sshd[$pid]: Failed password for deploy from $ATT port 41990 ssh2"
i=$((i + 4))
echo "<38>$(t $i) portal-01 sshd[$pid]: Accepted password for deploy from $ATT port 41991 ssh2"
echo "<86>$(t $i) portal-01 sshd[$pid]: pam_unix(sshd:session): session opened for user deploy(uid=1001) by (uid=0)"
i=$((i + 30))
echo "<85>$(t $i) portal-01 sudo:   deploy : TTY=pts/0 ; PWD=/home/deploy ; USER=root ; COMMAND=/bin/bash"
echo "<86>$(t $i) portal-01 sudo: pam_unix(sudo:session): session opened for user root(uid=0) by deploy(uid=1001)"
i=$((i + 20))
echo "<86>$(t $i) portal-01 useradd[5120]: new group: name=backup2, GID=1002"
echo "<86>$(t $i) portal-01 useradd[5120]: new user: name=backup2, UID=1002, GID=1002, home=/home/backup2, shell=/bin/bash, from=/dev/pts/1"
i=$((i + 5))
echo "<86>$(t $i) portal-01 usermod[5131]: add 'backup2' to group 'sudo'"
echo "<86>$(t $i) portal-01 usermod[5131]: add 'backup2' to shadow group 'sudo'"

# Web probing of the public portal (nginx access log lines, sent through syslog by the
# web server's host as nginx's syslog output does).
web() { echo "<190>$(t $1) portal-web nginx: $ATT - - [$(tw $1)] \"$2\" $3 $4 \"-\" \"$5\""; }
w=40
web $w "GET / HTTP/1.1" 200 5120 "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000001)"
web $((w + 1)) "GET /admin/ HTTP/1.1" 404 162 "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000112)"
web $((w + 2)) "GET /thu-tuc?id=1%27%20OR%20%271%27%3D%271 HTTP/1.1" 500 312 "sqlmap/1.8.2#stable (https://sqlmap.org)"
web $((w + 3)) "GET /thu-tuc?id=1%20UNION%20SELECT%20username,password%20FROM%20users-- HTTP/1.1" 500 312 "sqlmap/1.8.2#stable (https://sqlmap.org)"
web $((w + 4)) "GET /download?file=../../../../etc/passwd HTTP/1.1" 400 157 "Mozilla/5.0 (X11; Linux x86_64)"
web $((w + 5)) "POST /uploads/cmd.php HTTP/1.1" 200 41 "Mozilla/5.0 (X11; Linux x86_64)"
web $((w + 6)) "GET /uploads/cmd.php?cmd=id HTTP/1.1" 200 54 "Mozilla/5.0 (X11; Linux x86_64)"
# A citizen using the portal normally: must not alert.
echo "<190>$(t $((w + 7))) portal-web nginx: 113.161.40.12 - - [$(tw $((w + 7)))] \"GET /thu-tuc/cap-giay-phep HTTP/1.1\" 200 8812 \"https://dichvucong.example.gov.vn/\" \"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36\""

# Port scan seen by the edge firewall (iptables LOG lines in the kernel log).
f=60
for port in 21 22 23 25 53 80 110 135 139 143 443 445 993 995 1433 3306 3389 5432 5900 8080; do
  f=$((f + 1))
  echo "<4>$(t $f) edge-fw kernel: [UFW BLOCK] IN=eth0 OUT= MAC=00:16:3e:5e:6c:00:00:16:3e:11:22:33:08:00 SRC=$ATT DST=203.113.131.10 LEN=44 TOS=0x00 PREC=0x00 TTL=52 ID=$((3000 + port)) PROTO=TCP SPT=61000 DPT=$port WINDOW=1024 RES=0x00 SYN URGP=0"
done
