# bash completion for rvsadm, the ipvsadm-compatible command line of rvs.
# Install: /usr/share/bash-completion/completions/rvsadm (if rvsadm is also installed as
# `ipvsadm`, link completions/ipvsadm to this file).
#
# Completes the commands and options of ipvsadm 1.31, scheduler names after -s, scheduler
# flags after -b, and, from the running rvsd (`rvsadm -S -n`), the existing virtual services
# after -t/-u/--sctp-service/-f and their real servers after -r.

_rvsadm_schedulers="rr wrr lc wlc lblc lblcr dh sh sed nq mh fo ovf twos"
_rvsadm_sched_flags="flag-1 flag-2 flag-3 sh-fallback sh-port mh-fallback mh-port"
_rvsadm_commands="-A --add-service -E --edit-service -D --delete-service -C --clear
    -R --restore -S --save -a --add-server -e --edit-server -d --delete-server
    -L -l --list -Z --zero --set --start-daemon --stop-daemon -h --help -v --version"
_rvsadm_options="-t --tcp-service -u --udp-service --sctp-service -f --fwmark-service
    -s --scheduler -p --persistent -M --netmask -r --real-server
    -g --gatewaying -i --ipip -m --masquerading -w --weight
    -x --u-threshold -y --l-threshold -n --numeric -c --connection
    --timeout --daemon --stats --rate --thresholds --persistent-conn --nosort --sort
    --exact -X -o --ops --pe -b --sched-flags -6 --ipv6 --tun-info
    --tun-type --tun-port --tun-nocsum --tun-csum --tun-remcsum
    --mcast-interface --syncid --mcast-group --mcast-port --mcast-ttl --sync-maxlen"

# Lines of `rvsadm -S -n` (restore format), empty when rvsd is not reachable.
_rvsadm_saved() {
    local prog=${1:-rvsadm}
    "$prog" -S -n 2>/dev/null
}

# Services of protocol flag $2 (-t, -u, --sctp-service, -f) from the saved rules.
_rvsadm_services() {
    local prog=$1 flag=$2 f
    while read -r -a f; do
        [[ ${f[0]} == -A && ${f[1]} == "$flag" ]] && printf '%s\n' "${f[2]}"
    done < <(_rvsadm_saved "$prog")
}

# Real servers of service $3 (given with protocol flag $2).
_rvsadm_real_servers() {
    local prog=$1 flag=$2 service=$3 f
    while read -r -a f; do
        [[ ${f[0]} == -a && ${f[1]} == "$flag" && ${f[2]} == "$service" && ${f[3]} == -r ]] &&
            printf '%s\n' "${f[4]}"
    done < <(_rvsadm_saved "$prog")
}

_rvsadm() {
    local cur prev words cword
    if declare -F _init_completion >/dev/null; then
        _init_completion -n : || return
    else
        COMPREPLY=()
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD - 1]}
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
    fi
    local prog=${words[0]}

    case $prev in
        -s | --scheduler)
            mapfile -t COMPREPLY < <(compgen -W "$_rvsadm_schedulers" -- "$cur")
            return
            ;;
        -b | --sched-flags)
            # A comma-separated list: complete the word after the last comma.
            local done_part="" last=$cur
            if [[ $cur == *,* ]]; then
                done_part=${cur%,*},
                last=${cur##*,}
            fi
            mapfile -t COMPREPLY < <(compgen -P "$done_part" -W "$_rvsadm_sched_flags" -- "$last")
            return
            ;;
        -t | --tcp-service | -u | --udp-service | --sctp-service | -f | --fwmark-service)
            local flag=$prev
            case $prev in
                --tcp-service) flag=-t ;;
                --udp-service) flag=-u ;;
                --fwmark-service) flag=-f ;;
            esac
            mapfile -t COMPREPLY < <(compgen -W "$(_rvsadm_services "$prog" "$flag")" -- "$cur")
            return
            ;;
        -r | --real-server)
            local i flag="" service=""
            for ((i = 1; i < cword - 1; i++)); do
                case ${words[i]} in
                    -t | --tcp-service) flag=-t service=${words[i + 1]} ;;
                    -u | --udp-service) flag=-u service=${words[i + 1]} ;;
                    --sctp-service) flag=--sctp-service service=${words[i + 1]} ;;
                    -f | --fwmark-service) flag=-f service=${words[i + 1]} ;;
                esac
            done
            if [[ -n $service ]]; then
                mapfile -t COMPREPLY < <(compgen -W "$(_rvsadm_real_servers "$prog" "$flag" "$service")" -- "$cur")
            fi
            return
            ;;
        --tun-type)
            mapfile -t COMPREPLY < <(compgen -W "ipip gue gre" -- "$cur")
            return
            ;;
        --start-daemon | --stop-daemon)
            mapfile -t COMPREPLY < <(compgen -W "master backup" -- "$cur")
            return
            ;;
        --pe)
            mapfile -t COMPREPLY < <(compgen -W "sip" -- "$cur")
            return
            ;;
        --mcast-interface)
            mapfile -t COMPREPLY < <(compgen -W "$(ls /sys/class/net 2>/dev/null)" -- "$cur")
            return
            ;;
        -w | --weight | -x | --u-threshold | -y | --l-threshold | -p | --persistent | -M | \
            --netmask | --tun-port | --syncid | --mcast-group | --mcast-port | --mcast-ttl | \
            --sync-maxlen)
            # A value the user types.
            return
            ;;
    esac

    # The first word must be a command (ipvsadm's rule); after it, options.
    if ((cword == 1)); then
        mapfile -t COMPREPLY < <(compgen -W "$_rvsadm_commands" -- "$cur")
    elif [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$_rvsadm_options" -- "$cur")
    fi
}

complete -F _rvsadm rvsadm
