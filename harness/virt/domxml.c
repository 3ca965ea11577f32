#include "domxml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>
#include <libxml/xmlsave.h>

#include "base/buf.h"
#include "base/mem.h"

static xmlNodePtr add(xmlNodePtr parent, const char *name, const char *content)
{
    return xmlNewTextChild(parent, NULL, (const xmlChar *)name, (const xmlChar *)content);
}

static void set(xmlNodePtr node, const char *name, const char *value)
{
    xmlSetProp(node, (const xmlChar *)name, (const xmlChar *)value);
}

static void qemu_arg(xmlNodePtr cmdline, xmlNsPtr ns, const char *value)
{
    xmlNodePtr arg = xmlNewChild(cmdline, ns, (const xmlChar *)"arg", NULL);
    set(arg, "value", value);
}

int lg_domxml_forwarded_port(const lg_profile *p)
{
    return p->transport == LG_TRANSPORT_SSH || !p->net_probe ? p->ssh_port : p->net_probe_port;
}

char *lg_domxml_build(const lg_domxml_params *params)
{
    const lg_profile *p = params->profile;
    char num[32];
    xmlDocPtr doc = xmlNewDoc((const xmlChar *)"1.0");
    xmlNodePtr dom = xmlNewNode(NULL, (const xmlChar *)"domain");
    xmlDocSetRootElement(doc, dom);
    set(dom, "type", params->kvm ? "kvm" : "qemu");
    xmlNsPtr qemu_ns = xmlNewNs(dom, (const xmlChar *)"http://libvirt.org/schemas/domain/qemu/1.0",
                                (const xmlChar *)"qemu");

    add(dom, "name", params->name);
    add(dom, "title", "labgate test guest");
    /* gc recognises leftovers by this element, never by name alone */
    xmlNodePtr meta = add(dom, "metadata", NULL);
    xmlNodePtr job = xmlNewChild(meta, NULL, (const xmlChar *)"job", NULL);
    xmlNsPtr lg_ns = xmlNewNs(job, (const xmlChar *)LG_METADATA_NS, (const xmlChar *)"labgate");
    xmlSetNs(job, lg_ns);
    set(job, "run", params->run_id);
    set(job, "job", params->job_id);
    set(job, "overlay", params->overlay_path);
    set(job, "profile", p->id);
    if (params->run_lock)
        set(job, "lock", params->run_lock);

    snprintf(num, sizeof(num), "%d", p->memory_mib);
    set(add(dom, "memory", num), "unit", "MiB");
    snprintf(num, sizeof(num), "%d", p->vcpus);
    add(dom, "vcpu", num);

    bool x86 = lg_arch_info_of(p->arch)->x86;
    bool windows = p->os == LG_OS_WINDOWS;
    xmlNodePtr os = add(dom, "os", NULL);
    if (p->efi)
        set(os, "firmware", "efi"); /* libvirt picks the build from the host's descriptors */
    xmlNodePtr type = add(os, "type", "hvm");
    set(type, "arch", lg_arch_name(p->arch));
    set(type, "machine", p->machine);
    if (p->efi) {
        xmlNodePtr fw = add(os, "firmware", NULL);
        xmlNodePtr feature = add(fw, "feature", NULL);
        set(feature, "enabled", p->secure_boot ? "yes" : "no");
        set(feature, "name", "secure-boot");
        /* the varstore with Microsoft's keys and secure boot on: what
         * Windows' boot manager is signed against */
        feature = add(fw, "feature", NULL);
        set(feature, "enabled", p->secure_boot ? "yes" : "no");
        set(feature, "name", "enrolled-keys");
    }
    if (p->kernel) {
        add(os, "kernel", params->kernel_path ? params->kernel_path : p->kernel);
        if (p->initrd)
            add(os, "initrd", params->initrd_path ? params->initrd_path : p->initrd);
        LG_AUTOBUF cmdline = LG_BUF_INIT;
        const char *parts[] = {
            p->cmdline, params->strict ? LG_STRICT_CMDLINE : "",
            p->os == LG_OS_LINUX ? lg_hardening_info_of(params->hardening)->linux_cmdline : "",
        };
        for (size_t i = 0; i < LG_N_ELEMENTS(parts); i++)
            if (parts[i] && *parts[i])
                lg_buf_printf(&cmdline, "%s%s", cmdline.len ? " " : "", parts[i]);
        add(os, "cmdline", cmdline.data ? cmdline.data : "");
    } else {
        set(add(os, "boot", NULL), "dev", "hd");
    }

    if (p->cpu_model) {
        xmlNodePtr cpu = add(dom, "cpu", NULL);
        set(cpu, "mode", "custom");
        set(cpu, "match", "exact");
        set(add(cpu, "model", p->cpu_model), "fallback", "forbid");
    } else if (p->cpu_maximum) {
        xmlNodePtr cpu = add(dom, "cpu", NULL);
        set(cpu, "mode", params->kvm ? "host-passthrough" : "maximum");
        set(cpu, "check", "none");
    }
    /* aarch64 without UEFI boots the kernel directly, and libvirt allows
     * ACPI there only with UEFI: the kernel finds its devices in the device
     * tree QEMU builds */
    if (x86 || p->efi) {
        xmlNodePtr features = add(dom, "features", NULL);
        add(features, "acpi", NULL);
        if (x86)
            add(features, "apic", NULL);
        else
            set(add(features, "gic", NULL), "version", "3");
        /* secure boot's varstore is only safe from the guest with SMM */
        if (p->secure_boot && x86)
            set(add(features, "smm", NULL), "state", "on");
        unsigned hv = p->hyperv & (params->kvm ? ~0u : ~(unsigned)LG_HV_KVM_ONLY);
        if (hv && x86) {
            /* Under TCG QEMU accepts these but builds the Hyper-V CPUID
             * leaves only for KVM: harmless, and right on a KVM host. */
            xmlNodePtr hyperv = add(features, "hyperv", NULL);
            set(hyperv, "mode", "custom");
            for (int i = 0; i < LG_HV_COUNT; i++) {
                if (!(hv & (1u << i)))
                    continue;
                xmlNodePtr f = add(hyperv, LG_HV_NAMES[i], NULL);
                set(f, "state", "on");
                if ((1u << i) == LG_HV_SPINLOCKS)
                    set(f, "retries", "8191");
            }
        }
    }
    xmlNodePtr clock = add(dom, "clock", NULL);
    set(clock, "offset", "utc");
    if (windows && x86) {
        /* Windows counts lost timer ticks: catch the RTC up, delay the PIT,
         * and keep it off the HPET, which it handles badly under emulation */
        xmlNodePtr timer = add(clock, "timer", NULL);
        set(timer, "name", "rtc");
        set(timer, "tickpolicy", "catchup");
        timer = add(clock, "timer", NULL);
        set(timer, "name", "pit");
        set(timer, "tickpolicy", "delay");
        timer = add(clock, "timer", NULL);
        set(timer, "name", "hpet");
        set(timer, "present", "no");
        if (p->hyperv) {
            timer = add(clock, "timer", NULL);
            set(timer, "name", "hypervclock");
            set(timer, "present", "yes");
        }
    }
    add(dom, "on_poweroff", "destroy");
    add(dom, "on_reboot", "restart");
    /* keep a panicked guest paused: its memory is evidence */
    add(dom, "on_crash", "preserve");

    xmlNodePtr devices = add(dom, "devices", NULL);
    xmlNodePtr disk = add(devices, "disk", NULL);
    set(disk, "type", "file");
    set(disk, "device", "disk");
    xmlNodePtr driver = add(disk, "driver", NULL);
    set(driver, "name", "qemu");
    set(driver, "type", "qcow2");
    set(add(disk, "source", NULL), "file", params->overlay_path);
    xmlNodePtr target = add(disk, "target", NULL);
    set(target, "dev", "vda");
    set(target, "bus", "virtio");

    xmlNodePtr serial = add(devices, "serial", NULL);
    set(serial, "type", "pty");
    set(add(serial, "target", NULL), "port", "0");
    xmlNodePtr console = add(devices, "console", NULL);
    set(console, "type", "pty");
    xmlNodePtr ctarget = add(console, "target", NULL);
    set(ctarget, "type", "serial");
    set(ctarget, "port", "0");

    if (p->tpm) {
        /* CRB on x86 (what Windows expects on q35); TIS on the virt machine,
         * which has neither ISA nor CRB */
        xmlNodePtr tpm = add(devices, "tpm", NULL);
        set(tpm, "model", x86 ? "tpm-crb" : "tpm-tis");
        xmlNodePtr backend = add(tpm, "backend", NULL);
        set(backend, "type", "emulator");
        set(backend, "version", "2.0");
    }
    if (p->panic_hyperv)
        set(add(devices, "panic", NULL), "model", "hyperv");
    if (p->panic_model == LG_PANIC_ISA) {
        xmlNodePtr panic = add(devices, "panic", NULL);
        set(panic, "model", "isa");
        xmlNodePtr addr = add(panic, "address", NULL);
        set(addr, "type", "isa");
        set(addr, "iobase", "0x505");
    }
    if (p->watchdog_model) {
        xmlNodePtr wd = add(devices, "watchdog", NULL);
        set(wd, "model", p->watchdog_model);
        set(wd, "action", p->watchdog_action);
    }
    /* The qemu-guest-agent's channel: the second transport, which needs no
     * network.  Every guest gets it; a guest without an agent ignores it. */
    xmlNodePtr channel = add(devices, "channel", NULL);
    set(channel, "type", "unix");
    xmlNodePtr chtarget = add(channel, "target", NULL);
    set(chtarget, "type", "virtio");
    set(chtarget, "name", "org.qemu.guest_agent.0");
    /* A display with no listener: nothing to connect to, but QEMU renders
     * the screen, so a screenshot can be taken as evidence.  The virt
     * machine has no VGA: a virtio GPU there. */
    xmlNodePtr graphics = add(devices, "graphics", NULL);
    set(graphics, "type", "vnc");
    set(add(graphics, "listen", NULL), "type", "none");
    xmlNodePtr video = add(devices, "video", NULL);
    /* Windows on ARM has no virtio GPU driver; its firmware and boot
     * screens go to ramfb */
    set(add(video, "model", NULL), "type", x86 ? "vga" : windows ? "ramfb" : "virtio");
    if (!x86 && windows) {
        /* no PS/2 on virt: a keyboard for the recovery screens */
        xmlNodePtr usb = add(devices, "controller", NULL);
        set(usb, "type", "usb");
        set(usb, "model", "qemu-xhci");
        xmlNodePtr input = add(devices, "input", NULL);
        set(input, "type", "keyboard");
        set(input, "bus", "usb");
        input = add(devices, "input", NULL);
        set(input, "type", "tablet");
        set(input, "bus", "usb");
    }
    set(add(devices, "memballoon", NULL), "model", "none");

    /* User-mode networking with an ssh forward on loopback only: libvirt 9.0
     * has no passt portForward, so the NIC is added on the QEMU command line
     * at a fixed PCI slot well above the ones libvirt assigns. restrict=on
     * keeps the guest from reaching anything but the forwarded port. */
    xmlNodePtr cmd = xmlNewChild(dom, qemu_ns, (const xmlChar *)"commandline", NULL);
    char host_port[16];
    if (params->ssh_port_auto)
        snprintf(host_port, sizeof(host_port), "0");
    else if (params->ssh_host_port > 0)
        snprintf(host_port, sizeof(host_port), "%d", params->ssh_host_port);
    else
        snprintf(host_port, sizeof(host_port), "%s", LG_DOMXML_PORT_PLACEHOLDER);
    /* The network probes (run/netprobe.h): the forward the host probe
     * reaches the guest through (ssh's, or the profile's port under
     * qemu-ga), and a guestfwd, which restrict=on leaves working: the
     * guest's connections to LG_NETPROBE_GUEST_ADDR go to labgate's
     * listener on 127.0.0.1 (one chardev connection QEMU opens at start).
     * libvirt 9.0 expresses neither for user networking. */
    int fwd_port = lg_domxml_forwarded_port(p);
    LG_AUTOBUF guestfwd = LG_BUF_INIT;
    if (p->net_probe) {
        if (params->probe_listen_port > 0)
            lg_buf_printf(&guestfwd, ",guestfwd=tcp:%s:%d-tcp:127.0.0.1:%d", LG_NETPROBE_GUEST_ADDR,
                          LG_NETPROBE_GUEST_PORT, params->probe_listen_port);
        else
            lg_buf_printf(&guestfwd, ",guestfwd=tcp:%s:%d-tcp:127.0.0.1:%s", LG_NETPROBE_GUEST_ADDR,
                          LG_NETPROBE_GUEST_PORT, LG_DOMXML_PROBE_PLACEHOLDER);
    }
    LG_AUTOFREE char *netdev = lg_strdup_printf(
        "user,id=lgnet0,restrict=on,hostfwd=tcp:127.0.0.1:%s-:%d%s", host_port, fwd_port,
        guestfwd.data ? guestfwd.data : "");
    const char *bus = strcmp(p->machine, "pc") == 0 || strncmp(p->machine, "pc-i440fx", 9) == 0 ? "pci.0" : "pcie.0";
    LG_AUTOFREE char *nic = lg_strdup_printf("virtio-net-pci,netdev=lgnet0,bus=%s,addr=0x10", bus);
    qemu_arg(cmd, qemu_ns, "-netdev");
    qemu_arg(cmd, qemu_ns, netdev);
    qemu_arg(cmd, qemu_ns, "-device");
    qemu_arg(cmd, qemu_ns, nic);
    if (p->panic_model == LG_PANIC_PVPANIC_PCI) {
        /* libvirt 9.0 has no pvpanic model for PCI; QEMU reports its
         * panic event all the same, and libvirt turns it into CRASHED */
        LG_AUTOFREE char *pvpanic = lg_strdup_printf("pvpanic-pci,bus=%s,addr=0x11", bus);
        qemu_arg(cmd, qemu_ns, "-device");
        qemu_arg(cmd, qemu_ns, pvpanic);
    }

    xmlChar *out = NULL;
    int len = 0;
    xmlDocDumpFormatMemoryEnc(doc, &out, &len, "UTF-8", 1);
    xmlFreeDoc(doc);
    if (!out)
        return NULL;
    char *s = lg_strdup((const char *)out);
    xmlFree(out);
    return s;
}
