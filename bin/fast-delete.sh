# Sourced by bin/tsvisor when its arguments hold `delete`. containerd's runc shim follows
# every `delete ID` with a `delete --force ID` of the container it has just deleted, which
# must exit 0 and do nothing, as runc's does for a container that is not there: answered
# here, without starting node (about 35 ms of Docker's every `run --rm`). Only that exact
# shape is: runc's global flags, `delete`, `--force`, one valid id whose state directory
# does not exist. Anything else, and any doubt, returns non-zero and goes to node, which
# answers the same case the same way (src/cli/delete.ts).
tsvisor_fast_delete() {
	_root=/run/tsvisor _cmd= _force= _id=
	while [ $# -gt 0 ]; do
		case $1 in
		--root | --log | --log-format)
			[ $# -ge 2 ] || return 1
			[ "$1" = --root ] && _root=$2
			shift ;;
		--root=*) _root=${1#--root=} ;;
		--log=* | --log-format=* | --debug | --systemd-cgroup) ;;
		delete) [ -z "$_cmd" ] || return 1; _cmd=delete ;;
		--force | -f) [ "$_cmd" = delete ] || return 1; _force=1 ;;
		-*) return 1 ;;
		*) [ "$_cmd" = delete ] && [ -z "$_id" ] || return 1; _id=$1 ;;
		esac
		shift
	done
	[ "$_cmd" = delete ] && [ -n "$_force" ] && [ -n "$_id" ] && [ -n "$_root" ] || return 1
	# src/oci/id.ts's rule, so that the id names one directory beneath the root.
	case $_id in . | .. | *[!A-Za-z0-9_+.-]*) return 1 ;; esac
	[ ${#_id} -le 1024 ] && [ ! -e "$_root/$_id" ] && [ ! -L "$_root/$_id" ]
}
