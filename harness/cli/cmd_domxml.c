#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/statedir.h"
#include "base/util.h"
#include "cli.h"
#include "model/matrix.h"
#include "model/verdict.h"
#include "virt/domxml.h"
#include "virt/pool.h"

static const char help[] =
    "usage: labgate domxml PROFILE [--accel kvm|tcg] [--strict] [--hardening none|slub]\n"
    "Prints the libvirt domain XML labgate would define for a guest profile, so it\n"
    "can be read, diffed or tried by hand (virsh define).  What a run decides per\n"
    "job is shown as placeholders: RUN_ID and JOB_ID in the domain name and the\n"
    "overlay volume's name, and " LG_DOMXML_PORT_PLACEHOLDER " for the ssh port forwarded on 127.0.0.1.  The\n"
    "overlay is shown in the labgate storage pool as qemu:///system has it; the\n"
    "kernel and initramfs at the profile's paths (a run boots the copies it uploads\n"
    "into the host's pool, named by their SHA-256).\n"
    "\n"
    "  --accel MODE   kvm or tcg (default tcg): the domain type, kvm or qemu\n"
    "  --strict       add the kernel arguments of the policy's strict mode\n"
    "  --hardening H  add the kernel arguments of the policy's hardening (Linux)\n"
    "\n"
    "Exits 0, or 2 when the profile is invalid (FILE:LINE: problem on stderr).\n";

int lg_cmd_domxml(int argc, char **argv)
{
    static const struct option options[] = {
        { "accel", required_argument, NULL, 'a' },
        { "strict", no_argument, NULL, 's' },
        { "hardening", required_argument, NULL, 'H' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    bool kvm = false, strict = false;
    lg_hardening hardening = LG_HARDENING_NONE;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case 'a':
            if (strcmp(optarg, "kvm") == 0) {
                kvm = true;
            } else if (strcmp(optarg, "tcg") == 0) {
                kvm = false;
            } else {
                fprintf(stderr, "labgate domxml: --accel must be kvm or tcg, not '%s'\n", optarg);
                return LG_EXIT_BAD_INPUT;
            }
            break;
        case 's': strict = true; break;
        case 'H':
            if (lg_hardening_parse(optarg, &hardening) < 0) {
                fprintf(stderr, "labgate domxml: --hardening must be none or slub, not '%s'\n", optarg);
                return LG_EXIT_BAD_INPUT;
            }
            break;
        case 'h': fputs(help, stdout); return 0;
        default: fputs(help, stderr); return LG_EXIT_BAD_INPUT;
        }
    }
    if (optind != argc - 1) {
        fputs(help, stderr);
        return LG_EXIT_BAD_INPUT;
    }
    lg_diags diags = { 0 };
    LG_AUTO(lg_profile) profile = NULL;
    int rc = lg_profile_load(argv[optind], &profile, &diags);
    /* missing images are warnings: the XML can still be shown */
    lg_diags_print(&diags, stderr);
    lg_diags_clear(&diags);
    if (rc < 0)
        return LG_EXIT_BAD_INPUT;
    LG_AUTOFREE char *overlay = lg_strdup_printf("%s/labgate-RUN_ID-JOB_ID.qcow2", LG_POOL_SYSTEM_TARGET);
    lg_domxml_params params = {
        .profile = profile,
        .name = "labgate-RUN_ID-JOB_ID",
        .overlay_path = overlay,
        .ssh_host_port = 0,
        .kvm = kvm,
        .strict = strict,
        .hardening = hardening,
        .run_id = "RUN_ID",
        .job_id = "JOB_ID",
    };
    LG_AUTOFREE char *xml = lg_domxml_build(&params);
    if (!xml) {
        fprintf(stderr, "labgate domxml: out of memory\n");
        return LG_EXIT_INCOMPLETE;
    }
    fputs(xml, stdout);
    return 0;
}
