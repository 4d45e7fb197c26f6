#!/bin/sh
# SPDX-License-Identifier: MIT
# Becomes the container's init. Runs as PID 1 of fresh pid, mount, net,
# cgroup, uts and ipc namespaces (tests/system/container.py starts it under
# unshare): assembles a throw-away root over the cached Debian root,
# installs pochtar into it with `meson install`, then execs systemd.
# Everything it mounts lives in the private mount namespace and vanishes
# with it.
set -eu
lower=$1 run=$2 build=${3:-}
root=$run/root

mount --make-rprivate /
mkdir -p "$run/upper" "$run/work" "$root"
mount -t overlay overlay -o "lowerdir=$lower,upperdir=$run/upper,workdir=$run/work" "$root"

# As systemd-nspawn does: a fresh /proc with /proc/sys read-only, and a
# read-only /sys, so no unit in the container touches the host's kernel
# settings or devices (udev, sysctl, binfmt and modules-load skip
# themselves on read-only /sys and /proc/sys). cgroup2 is the namespace's
# own subtree.
mount -t proc proc "$root/proc"
mount --bind "$root/proc/sys" "$root/proc/sys"
mount -o remount,bind,ro "$root/proc/sys"
mount -t sysfs -o ro sysfs "$root/sys"
mount -t cgroup2 cgroup2 "$root/sys/fs/cgroup"
mount -t tmpfs -o mode=755,nosuid tmpfs "$root/dev"
for n in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
        name=${n%%:*} majmin=${n#*:}
        mknod -m 666 "$root/dev/$name" c "${majmin%:*}" "${majmin#*:}"
done
mkdir -p "$root/dev/pts" "$root/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$root/dev/pts"
ln -s pts/ptmx "$root/dev/ptmx"
ln -s /proc/self/fd "$root/dev/fd"

# Units that make no sense in a container without a console or hardware.
for u in console-getty.service getty@tty1.service serial-getty@.service \
         systemd-udevd.service systemd-udev-trigger.service systemd-udev-settle.service \
         systemd-modules-load.service systemd-firstboot.service \
         proc-sys-fs-binfmt_misc.automount systemd-binfmt.service; do
        ln -sf /dev/null "$root/etc/systemd/system/$u"
done
echo mail.example.com > "$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tmail.example.com mail\n' > "$root/etc/hosts"
# dnsmasq in this network namespace answers the container's DNS, on
# systemd-resolved's stub address: the one loopback address
# pochtar-deliver's unit allows.
rm -f "$root/etc/resolv.conf"
echo "nameserver 127.0.0.53" > "$root/etc/resolv.conf"

# docs/install.md, step 1: meson install (the rest runs inside, under systemd).
if [ -n "$build" ]; then
        meson install --no-rebuild --quiet -C "$build" --destdir "$root" >"$run/meson-install.log" 2>&1
fi

# pivot_root, not chroot: a chrooted process may not create user
# namespaces, and the units' PrivateUsers= needs them.
cd "$root"
pivot_root . .
umount -l .
# As a container manager does (systemd leaves propagation to it): shared
# mounts inside, which LoadCredential= needs to move its ramfs into
# /run/credentials. Nothing propagates to the host: every mount here was
# made private above, so these form a new peer group.
mount --make-rshared /
exec /lib/systemd/systemd --unit=multi-user.target --log-target=journal-or-kmsg --show-status=false
