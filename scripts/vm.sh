# shellcheck shell=bash
# vm.sh: boot Debian 5.10 / 6.1 / 6.12 / 7.2 kernels under qemu (software emulation) with
# an initramfs made of busybox + static binaries. Source it:
#
#   . scripts/vm.sh
#   vm_ensure_tools [ARCH...]             # apt-get install qemu etc. if missing
#   k=$(vm_kernel 6.1)                    # path of the cached vmlinuz
#   vm_initramfs OUT.gz INIT_SCRIPT BIN...  # busybox + BINs (as /NAME) + /init
#   vm_boot 6.1 OUT.gz SERIAL.txt [TIMEOUT_S]
#
# Other architectures are kernels named 6.1-arm64, 6.1-armhf (32-bit
# ARMv7) and 6.1-s390x (big-endian): Debian bookworm's kernels for them,
# booted under qemu's emulators. vm_arch KERNEL names the architecture,
# vm_goarch ARCH the GOARCH (and GOARM) to build its binaries with, and
# VM_ARCH (set to the architecture) makes vm_initramfs put that
# architecture's busybox in.
#
# Kernels are cached, unpacked, under $VM_CACHE/kernels/<version>/ (default
# $REPO/.cache, git-ignored); a second run downloads nothing. The Debian
# mirror is read from the machine's apt configuration at run time.

VM_REPO=${VM_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
VM_CACHE=${VM_CACHE:-$VM_REPO/.cache}
VM_KERNELS=(5.10 6.1 6.12 7.2)
VM_ARCHES=(arm64 armhf s390x)
VM_ARCH=${VM_ARCH:-amd64}

vm_log() { echo "vm.sh: $*" >&2; }

# vm_ensure_tools [ARCH...] installs qemu-system-x86, busybox-static and
# cpio when one of them is missing, and the emulator of each other ARCH
# named (qemu-system-arm for arm64 and armhf, qemu-system-misc for s390x).
vm_ensure_tools() {
	local pkgs=() a
	command -v qemu-system-x86_64 >/dev/null || pkgs+=(qemu-system-x86)
	# /bin/busybox must be the static one: the guest has no libc. Its
	# applet list also names the links of the other architectures'
	# busybox (the same Debian version), which cannot run here.
	dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' ||
		pkgs+=(busybox-static)
	command -v cpio >/dev/null || pkgs+=(cpio)
	for a in "$@"; do
		case $a in
		arm64) command -v qemu-system-aarch64 >/dev/null || pkgs+=(qemu-system-arm) ;;
		armhf) command -v qemu-system-arm >/dev/null || pkgs+=(qemu-system-arm) ;;
		s390x) command -v qemu-system-s390x >/dev/null || pkgs+=(qemu-system-misc) ;;
		amd64) ;;
		*) vm_log "unknown architecture $a (want amd64 or one of ${VM_ARCHES[*]})"; return 1 ;;
		esac
	done
	[ ${#pkgs[@]} -eq 0 ] && return 0
	vm_log "installing ${pkgs[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends "${pkgs[@]}" >&2
}

# vm_arch KERNEL prints the Debian architecture of a kernel name: the
# suffix of 6.1-arm64 and the like, amd64 for the x86-64 matrix.
vm_arch() {
	case $1 in
	*-arm64) echo arm64 ;;
	*-armhf) echo armhf ;;
	*-s390x) echo s390x ;;
	*) echo amd64 ;;
	esac
}

# vm_goarch ARCH prints the environment for go build/test -c for ARCH.
vm_goarch() {
	case $1 in
	amd64) echo GOARCH=amd64 ;;
	arm64) echo GOARCH=arm64 ;;
	# Debian's armhf is ARMv7 with VFPv3-D16.
	armhf) echo GOARCH=arm GOARM=7 ;;
	s390x) echo GOARCH=s390x ;;
	*) return 1 ;;
	esac
}

# vm_apt_opts SUITE [ARCH] prints the apt options that read SUITE (for one
# foreign ARCH) through a private sources list and lists directory under
# $VM_CACHE, made from the machine's mirror at run time (the mirror's host
# is never written into the repository). Each architecture has lists of
# its own: an update for one would drop the others' lists.
vm_apt_opts() {
	local suite=$1 arch=${2:-} uri w
	uri=$(vm_mirror) || return 1
	w=$VM_CACHE/apt-$suite${arch:+-$arch}
	mkdir -p "$w/lists/partial" || return 1
	if [ -n "$arch" ]; then
		echo "deb [arch=$arch] $uri $suite main" >"$w/$suite.list"
	else
		echo "deb $uri $suite main" >"$w/$suite.list"
	fi
	printf '%s\n' -o "Dir::Etc::SourceList=$w/$suite.list" \
		-o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$w/lists"
	if [ -n "$arch" ]; then
		# Only ARCH: unqualified names (apt-cache search, download) are
		# then that architecture's packages.
		printf '%s\n' -o "APT::Architecture=$arch" -o "APT::Architectures::=$arch"
	fi
}

# vm_busybox ARCH prints the path of a static busybox for ARCH: the
# machine's own for amd64, else busybox-static:ARCH from bookworm,
# downloaded once and unpacked under $VM_CACHE/busybox-ARCH.
vm_busybox() {
	local arch=$1 dir=$VM_CACHE/busybox-$1
	if [ "$arch" = amd64 ]; then echo /bin/busybox; return 0; fi
	if [ ! -x "$dir/root/bin/busybox" ]; then
		mkdir -p "$VM_CACHE" || return 1
		(
			flock 9 || exit 1
			[ -x "$dir/root/bin/busybox" ] && exit 0
			local tmp o opts=()
			o=$(vm_apt_opts bookworm "$arch") || exit 1
			mapfile -t opts <<<"$o"
			apt-get "${opts[@]}" update -qq >&2 || exit 1
			tmp=$(mktemp -d) || exit 1
			chmod 777 "$tmp" # apt-get download drops to the _apt user
			vm_log "downloading busybox-static:$arch"
			(cd "$tmp" && apt-get "${opts[@]}" download -qq busybox-static >&2) &&
				rm -rf "$dir" && mkdir -p "$dir" && dpkg-deb -x "$tmp"/*.deb "$dir/root"
			local rc=$?
			rm -rf "$tmp"
			exit $rc
		) 9>"$VM_CACHE/.lock-busybox-$arch" || return 1
	fi
	echo "$dir/root/bin/busybox"
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
	# The other architectures: bookworm's kernels, read for that
	# architecture only (the suite is SUITE:ARCH).
	6.1-arm64) echo 'bookworm:arm64 ^linux-image-6\.1\.0-[0-9]+-cloud-arm64-unsigned$' ;;
	6.1-armhf) echo 'bookworm:armhf ^linux-image-6\.1\.0-[0-9]+-armmp$' ;;
	6.1-s390x) echo 'bookworm:s390x ^linux-image-6\.1\.0-[0-9]+-s390x$' ;;
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
		local arch=
		case $suite in *:*) arch=${suite#*:} suite=${suite%%:*} ;; esac
		local o
		o=$(vm_apt_opts "$suite" "$arch") || { rm -rf "$tmp"; return 1; }
		mapfile -t aptopts <<<"$o"
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
# busybox for $VM_ARCH (with applet links in /bin and /sbin), each BIN as
# /<basename>, and the script INIT as /init.
vm_initramfs() {
	local out=$1 init=$2 root b a bb
	shift 2
	bb=$(vm_busybox "$VM_ARCH") || return 1
	root=$(mktemp -d) || return 1
	# mktemp makes the root 0700; tests that run as other users need / and
	# a sticky /tmp like a real system's.
	chmod 755 "$root"
	mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,etc,root}
	chmod 1777 "$root/tmp"
	cp "$bb" "$root/bin/busybox"
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
# initramfs; the guest's output device ($VMOUT in vm_init_header) goes to
# SERIAL_OUT and the console to SERIAL_OUT.console. On x86-64 $VMOUT is the
# second serial port (/dev/ttyS1). The other machines have one console
# only (arm virt: one PL011; s390-ccw-virtio: the SCLP, whose second,
# line-mode console rewraps lines), and virtio-console is a module in
# Debian's kernels: there $VMOUT is the console itself, the kernel is kept
# off it (printk level 1 once /init runs), and SERIAL_OUT.console is a
# copy of SERIAL_OUT; callers find their output between marker lines.
# Returns qemu's status (124 on timeout).
vm_boot() {
	local ver=$1 initrd=$2 out=$3 tmo=${4:-600} k rc=0
	k=$(vm_kernel "$ver") || return 1
	: >"$out"
	local append="${VM_QUIET-quiet} panic=-1 VM_KERNEL=$ver"
	# TCG in one thread: the shared host has 2 CPUs (MTTCG would take both).
	local qemu=(-accel tcg,thread=single -m 1024 -smp 2 -display none -no-reboot -nodefaults
		-kernel "$k" -initrd "$initrd")
	case $(vm_arch "$ver") in
	amd64)
		timeout --foreground -k 5 "$tmo" qemu-system-x86_64 "${qemu[@]}" -cpu max \
			-append "console=ttyS0 $append" \
			-serial "file:$out.console" -serial "file:$out" </dev/null
		return
		;;
	# cortex-a57: -cpu max emulates pointer authentication, which is
	# several times slower under TCG.
	arm64) qemu=(qemu-system-aarch64 "${qemu[@]}" -M virt -cpu cortex-a57
		-append "console=ttyAMA0 $append VM_OUT=console") ;;
	# The armmp kernel boots on virt from the device tree qemu makes;
	# highmem=off keeps every device below 4 GiB for a kernel without LPAE.
	# With 2 CPUs in one TCG thread it hangs when /init opens the console;
	# with a thread per CPU (taking both of the host's) it boots.
	armhf) qemu=(qemu-system-arm "${qemu[@]/thread=single/thread=multi}" -M virt,highmem=off -cpu cortex-a15
		-append "console=ttyAMA0 $append VM_OUT=console") ;;
	# The first -serial of s390-ccw-virtio is the SCLP VT220 console.
	s390x) qemu=(qemu-system-s390x "${qemu[@]}" -M s390-ccw-virtio
		-append "console=ttysclp0 $append VM_OUT=console") ;;
	esac
	timeout --foreground -k 5 "$tmo" "${qemu[@]}" -serial "file:$out" </dev/null || rc=$?
	cp "$out" "$out.console"
	return $rc
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
# Where results go (vm_boot): ttyS1, or the console where there is no
# second port; then the kernel's messages are kept off it.
VMOUT=/dev/$(sed -n 's/.*VM_OUT=\([^ ]*\).*/\1/p' /proc/cmdline)
if [ "$VMOUT" = /dev/ ]; then VMOUT=/dev/ttyS1; else echo 1 >/proc/sys/kernel/printk; fi
cd /tmp
EOS
}
