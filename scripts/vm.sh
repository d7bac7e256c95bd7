# shellcheck shell=bash
# vm.sh: boot Debian 5.10 / 6.1 / 6.12 / 7.2 kernels under qemu (software emulation) with
# an initramfs made of busybox + static binaries. Source it:
#
#   . scripts/vm.sh
#   vm_ensure_tools                       # apt-get install qemu etc. if missing
#   k=$(vm_kernel 6.1)                    # path of the cached vmlinuz
#   vm_initramfs OUT.gz INIT_SCRIPT BIN...  # busybox + BINs (as /NAME) + /init
#   vm_boot 6.1 OUT.gz SERIAL.txt [TIMEOUT_S]
#
# Kernels are cached, unpacked, under $VM_CACHE/kernels/<version>/ (default
# $REPO/.cache, git-ignored); a second run downloads nothing. The Debian
# mirror is read from the machine's apt configuration at run time.

VM_REPO=${VM_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
VM_CACHE=${VM_CACHE:-$VM_REPO/.cache}
VM_KERNELS=(5.10 6.1 6.12 7.2)

vm_log() { echo "vm.sh: $*" >&2; }

# vm_ensure_tools installs qemu-system-x86, busybox-static and cpio when one
# of them is missing.
vm_ensure_tools() {
	local missing=
	command -v qemu-system-x86_64 >/dev/null || missing=1
	# /bin/busybox must be the static one: the guest has no libc.
	dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' ||
		missing=1
	command -v cpio >/dev/null || missing=1
	[ -z "$missing" ] && return 0
	vm_log "installing qemu-system-x86 busybox-static cpio"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends qemu-system-x86 busybox-static cpio >&2
}

# vm_mirror prints the Debian mirror URI configured for apt.
vm_mirror() {
	local uri=
	if [ -f /etc/apt/sources.list.d/debian.sources ]; then
		uri=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources)
	fi
	if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
		uri=$(awk '$1=="deb"{for(i=2;i<=NF;i++) if($i ~ /^[a-z]+:\/\//){print $i; exit}}' /etc/apt/sources.list)
	fi
	[ -n "$uri" ] || { vm_log "no Debian mirror found in apt sources"; return 1; }
	echo "$uri"
}

# vm_kernel_spec VERSION prints the Debian suite that has the kernel ("-"
# for the machine's own apt sources) and an extended regexp matching its
# package names, on one line. The ABI numbers in the names move with every
# Debian kernel update, so they are matched, never written down.
vm_kernel_spec() {
	case $1 in
	5.10) echo 'bullseye ^linux-image-5\.10\.0-[0-9]+-cloud-amd64-unsigned$' ;;
	6.1) echo '- ^linux-image-6\.1\.0-[0-9]+-cloud-amd64-unsigned$' ;;
	# trixie names its kernels by upstream version: 6.12.N+deb13[uM].
	6.12) echo 'trixie ^linux-image-6\.12\.[0-9]+[^-]*-cloud-amd64-unsigned$' ;;
	# In sid the linux-image-* package is only a meta package; the kernel
	# itself is in linux-binary-*.
	7.2) echo 'sid ^linux-binary-7\.2\.[0-9]+[^-]*-cloud-amd64$' ;;
	*) return 1 ;;
	esac
}

# vm_find_vmlinuz DIR prints the vmlinuz unpacked under DIR: boot/vmlinuz-*
# up to trixie, usr/lib/modules/<ver>/vmlinuz from sid's linux-binary-*.
vm_find_vmlinuz() {
	ls "$1"/root/boot/vmlinuz-* "$1"/root/usr/lib/modules/*/vmlinuz 2>/dev/null | head -1 || true
}

# vm_kernel VERSION prints the path of the cached vmlinuz for 5.10, 6.1,
# 6.12 or 7.2, downloading and unpacking the Debian cloud kernel package
# first if needed. Suites other than the machine's own (bullseye, trixie,
# sid) are read through a private sources list under $VM_CACHE/apt-<suite>,
# built from the machine's mirror at run time.
vm_kernel() {
	local ver=$1 dir=$VM_CACHE/kernels/$1 k
	k=$(vm_find_vmlinuz "$dir")
	if [ -n "$k" ]; then echo "$k"; return 0; fi
	# Several runs may share one cache (VM_CACHE): one downloads, the
	# others wait for it and then find the kernel unpacked.
	mkdir -p "$VM_CACHE/kernels" || return 1
	(
		flock 9 || exit 1
		vm_kernel_download "$ver" "$dir"
	) 9>"$VM_CACHE/kernels/.lock-$ver" || return 1
	k=$(vm_find_vmlinuz "$dir")
	[ -n "$k" ] || { vm_log "no vmlinuz for $ver under $dir"; return 1; }
	echo "$k"
}

# vm_kernel_download VERSION DIR unpacks the newest matching Debian package
# into DIR/root unless a vmlinuz is already there. Callers hold the lock.
vm_kernel_download() {
	local ver=$1 dir=$2 spec suite re
	[ -z "$(vm_find_vmlinuz "$dir")" ] || return 0
	spec=$(vm_kernel_spec "$ver") || { vm_log "unknown kernel $ver (want one of ${VM_KERNELS[*]})"; return 1; }
	read -r suite re <<<"$spec"
	local tmp pkg aptopts=()
	tmp=$(mktemp -d) || return 1
	chmod 777 "$tmp" # apt-get download drops to the _apt user
	mkdir -p "$dir"
	if [ "$suite" = - ]; then
		pkg=$(apt-cache search --names-only "$re" | awk '{print $1}' | sort -V | tail -1)
		if [ -z "$pkg" ]; then
			apt-get update -qq >&2
			pkg=$(apt-cache search --names-only "$re" | awk '{print $1}' | sort -V | tail -1)
		fi
	else
		local uri w=$VM_CACHE/apt-$suite
		uri=$(vm_mirror) || { rm -rf "$tmp"; return 1; }
		mkdir -p "$w/lists/partial"
		echo "deb $uri $suite main" >"$w/$suite.list"
		aptopts=(-o Dir::Etc::SourceList="$w/$suite.list"
			-o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists="$w/lists")
		apt-get "${aptopts[@]}" update -qq >&2 || { rm -rf "$tmp"; return 1; }
		pkg=$(apt-cache "${aptopts[@]}" search --names-only "$re" | awk '{print $1}' | sort -V | tail -1)
	fi
	[ -n "$pkg" ] || { vm_log "no cloud kernel package found for $ver"; rm -rf "$tmp"; return 1; }
	vm_log "downloading $pkg"
	(cd "$tmp" && apt-get "${aptopts[@]}" download -qq "$pkg" >&2) || { rm -rf "$tmp"; return 1; }
	rm -rf "$dir/root"
	dpkg-deb -x "$tmp"/*.deb "$dir/root" || { rm -rf "$tmp"; return 1; }
	echo "$pkg" >"$dir/package"
	rm -rf "$tmp"
}

# vm_initramfs OUT INIT BIN... builds a gzipped newc initramfs holding a static
# busybox (with applet links in /bin and /sbin), each BIN as /<basename>, and
# the script INIT as /init.
vm_initramfs() {
	local out=$1 init=$2 root b a
	shift 2
	root=$(mktemp -d) || return 1
	# mktemp makes the root 0700; tests that run as other users need / and
	# a sticky /tmp like a real system's.
	chmod 755 "$root"
	mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,etc,root}
	chmod 1777 "$root/tmp"
	cp /bin/busybox "$root/bin/busybox"
	for a in $(/bin/busybox --list); do
		[ "$a" = busybox ] || ln -s busybox "$root/bin/$a"
	done
	ln -s ../bin/busybox "$root/sbin/poweroff"
	for b in "$@"; do cp "$b" "$root/$(basename "$b")" || { rm -rf "$root"; return 1; }; done
	cp "$init" "$root/init" && chmod 755 "$root/init"
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out"
	local rc=$?
	rm -rf "$root"
	return $rc
}

# vm_boot VERSION INITRD SERIAL_OUT [TIMEOUT_S] boots the kernel with the
# initramfs; the guest's second serial port (/dev/ttyS1) goes to SERIAL_OUT.
# The console (ttyS0) goes to SERIAL_OUT.console. Returns qemu's status
# (124 on timeout).
vm_boot() {
	local ver=$1 initrd=$2 out=$3 tmo=${4:-600} k
	k=$(vm_kernel "$ver") || return 1
	: >"$out"
	timeout --foreground -k 5 "$tmo" qemu-system-x86_64 -accel tcg,thread=single -cpu max -m 1024 -smp 2 \
		-display none -no-reboot -nodefaults \
		-kernel "$k" -initrd "$initrd" \
		-append "console=ttyS0 ${VM_QUIET-quiet} panic=-1 VM_KERNEL=$ver" \
		-serial "file:$out.console" -serial "file:$out" </dev/null
}

# vm_init_header prints the common start of an /init script: mounts, and
# TRACER_IN_VM set to the kernel version.
vm_init_header() {
	cat <<'EOS'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mount -t debugfs nodev /sys/kernel/debug 2>/dev/null
mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null
export TRACER_IN_VM=$(sed -n 's/.*VM_KERNEL=\([^ ]*\).*/\1/p' /proc/cmdline)
export PATH=/bin:/sbin HOME=/root TMPDIR=/tmp
cd /tmp
EOS
}
