// SPDX-License-Identifier: GPL-2.0
/*
 * sampledrv: the kernel half of labgate's sample endpoint-security agent.
 *
 * The agent daemon feeds "channel files" (.sac content) into the driver by
 * writing them to /proc/sampledrv/content; the driver parses them into its
 * active rule set and settings, reported by /proc/sampledrv/status and
 * /proc/sampledrv/options.
 *
 * Content format (text, one record per line):
 *
 *     SAC1                                    magic, first non-comment line
 *     # comment                               comments and blank lines are ignored
 *     rule <id> fields=<declared> <f1>|<f2>|...|<fn>
 *     netblock <id> ports=<p>[,<p>|<first>-<last>]... [action=audit|block|allow]
 *                                             inbound TCP/UDP packets to these ports
 *                                             (1..65535): audit (the default) counts
 *                                             them, block drops them, allow makes the
 *                                             filter an allow list (packets to ports
 *                                             no allow list names are dropped)
 *     option <key> <value>                    a setting for sampleagentd, passed through
 *                                             /proc/sampledrv/options (syntax checked only)
 *     boot-watchdog <seconds>|off             restart the machine if the agent has not
 *                                             reported up within <seconds> (1..600) of
 *                                             loading this file at boot
 *     delay-boot <seconds>                    the agent's boot hook holds the boot this
 *                                             long (0..3600) once the agent is up
 *     signer <id> [sha256:]<64 hex digits>    a trusted publisher: the SHA-256 thumbprint
 *                                             of its signing certificate
 *     ioc <id> <hex bytes>                    an indicator of compromise: a byte pattern
 *                                             (1..64 bytes) for the agent's fast filter
 *     proc-burst <window-ms> <slots>          fork-burst detection: keep the process
 *                                             starts of the last <window-ms> (1..60000)
 *                                             in a table of <slots> (16..65536) entries;
 *                                             a full table is a burst (logged)
 *
 * A file is committed on close, atomically: its rules and port lists replace
 * those with the same id, its options those with the same key, and its
 * boot-watchdog / delay-boot (the last one in the file wins) replace the
 * current ones. A file that fails to parse changes nothing.
 *
 * THIS DRIVER HAS DELIBERATE BUGS. They are the failure classes labgate
 * exists to catch: content that passes every unit test but takes the machine
 * down once the shipped driver loads it. Well-formed content works fine, so
 * content unit tests that only exercise good files pass. Do not "fix" them:
 * the end-to-end tests and the fault-mode content sets depend on them.
 *
 *  1. Crash (the July 2024 channel-file incident): the record interpreter
 *     trusts the field count a rule *declares* instead of the number of
 *     fields it *carries*. A rule that declares more fields than it carries
 *     makes sampledrv_parse_record() read past the end of its field array and
 *     dereference a NULL (or unmapped) pointer, and the kernel crashes, every
 *     time the content is loaded, including at every boot. (content/faulty)
 *
 *  2. Boot loop: boot-watchdog is documented as 1..600 or "off", but the
 *     parser checks only the upper bound, so "boot-watchdog 0" (written by
 *     someone who expects 0 to mean off) is accepted and arms a watchdog that
 *     has already expired. At runtime it is harmless: the watchdog only arms
 *     while the agent is starting at boot. At every boot after, the timer
 *     fires as soon as the daemon loads the file, and the driver resets the
 *     machine with emergency_restart(): no panic, no oops, just a reset
 *     before the boot completes, boot after boot. (content/bootloop)
 *
 *  3. Hang: port lists are compiled into the live port table in
 *     sampledrv_compile_ports() under an IRQ-safe spinlock (the packet hook
 *     reads the table in softirq context). Its loop counter is a u16 and a
 *     range's upper bound is inclusive, so a range that ends at 65535 (the
 *     top of the ephemeral range, 49152-65535) wraps to 0 and never ends: the
 *     CPU spins with preemption and interrupts off. On a 1-vCPU machine
 *     nothing else runs again: no console output, no network, no timer
 *     interrupt for the soft-lockup detector. (content/hang)
 *
 *  4. Generation ring (content-reload only): "history <n>" keeps the last n
 *     committed generations for a rollback, in a ring indexed by a u8
 *     position whose wrap check is "> n" instead of ">= n". Slot n is one
 *     past the ring (a zero-filled vzalloc page: NULL), so the n-th commit
 *     after the ring was set up writes through NULL in
 *     sampledrv_record_generation(). The driver starts over at every boot
 *     (module load), and one boot loads a content set once, so only many
 *     hot updates in a row reach it. (content/generations)
 *
 *  5. Torn file (power cut only): "hashes <id> count=<n>" announces a list
 *     of n hashes, one per line. sampledrv_index_hashes() copies the hashes
 *     the file carries into a table of exactly that size and then indexes
 *     as many as the header *declares*: a file cut short (apply-content.sh
 *     streams large files in place, see there) reads past the table into
 *     the vmalloc guard page. A complete file works. (content/torn)
 *
 *  6. Crash under a process storm: "proc-burst <window-ms> <slots>" turns
 *     on fork-burst detection: every process start within the window is
 *     kept in a table of <slots> entries (vzalloc'ed, so a page-multiple
 *     table ends at a guard page). The "table full" check in
 *     sampledrv_track_fork() compares with > instead of >=, so the start
 *     that comes when the table is exactly full is written one entry past
 *     its end. A normal boot starts far fewer processes per window than
 *     the table holds, so nothing happens; a storm of thousands of
 *     processes (labgate's <stress kind="process">) fills it and the write
 *     faults in the guard page: an oops in sampledrv_track_fork().
 *     (content/proc-storm: 256 slots for a 20 s window)
 *
 *  7. Network cut off: the action names of a port list are looked up in a
 *     table whose order does not match the enum it indexes (see
 *     sac_net_action_names), so "action=block" is taken as "allow". One
 *     well-meant block list (say, known C2 ports) turns the packet filter
 *     into an allow list of exactly those ports: every other inbound TCP and
 *     UDP packet is dropped, the machine's ssh, its replies to its own
 *     connections, everything. The OS runs on, unreachable. (content/netdrop)
 *
 *  8. Heap overflow (silent on a stock kernel): a signer's thumbprint is
 *     decoded into a 32-byte object of its own slab cache. The length
 *     check in sampledrv_parse_signer() allows for the optional "sha256:"
 *     prefix after the prefix has been stripped, so a thumbprint of up to
 *     70 hex digits (35 bytes) passes and hex2bin() writes up to 3 bytes
 *     past the object. On a stock kernel they land in the slot SLUB keeps
 *     after each object of a cache with a constructor for its free
 *     pointer, unused while the object is allocated: nothing happens, the
 *     content works. With SLUB debugging (slub_debug=Z, labgate's
 *     hardening="slub") they overwrite the object's red zone, and the free
 *     at the end of the same function reports "BUG sac_thumbprint (...):
 *     Right Redzone overwritten". (content/signer-overflow: a SHA-256
 *     thumbprint with three bytes too many, pasted with a certificate's
 *     serial number)
 *
 *  9. Heap out-of-bounds read (silent on a stock kernel): the fast filter
 *     of indicators of compromise folds the first SAC_IOC_FP_LEN (16)
 *     bytes of each pattern, whatever the pattern's length, in
 *     sampledrv_ioc_fingerprint(). A pattern shorter than that (a 6-byte
 *     beacon magic, say) is read past the end of its kmalloc'ed object.
 *     A stock kernel does not notice (the bytes after a small object are
 *     its slab's slack or the next object, always mapped); only the
 *     filter's bucket is wrong. A KASAN kernel reports "BUG: KASAN:
 *     slab-out-of-bounds in sampledrv_ioc_fingerprint", Read of size 1.
 *     (content/short-ioc: a list of IOCs whose last one is 6 bytes)
 *
 * 10. Memory leak (silent everywhere but a leak detector): an IOC whose
 *     filter bucket is taken already (the same pattern twice, from two
 *     feeds merged into one file, or a reload) makes sac_parse_ioc()
 *     return early without freeing the decoded pattern. Nothing else
 *     happens; kmemleak reports each one as an unreferenced object
 *     allocated in sac_parse_ioc. (content/dup-ioc)
 *
 * Two more content sets break the agent without a driver bug:
 * content/agent-dies sets an option the daemon cannot use (it exits), and
 * content/slow-boot sets delay-boot 90 (the boot hook holds the boot).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/console.h>
#include <linux/ctype.h>
#include <linux/ip.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/proc_fs.h>
#include <linux/reboot.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/timer.h>
#include <linux/tracepoint.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>
#include <net/ip.h>
#include <net/net_namespace.h>

#define SAC_VERSION		"1.0"
#define SAC_MAGIC		"SAC1"
#define SAC_MAX_CONTENT		(64 * 1024)	/* one channel file */
#define SAC_MAX_DECLARED	4096
#define SAC_MAX_ID		63
#define SAC_MAX_FIELD		255
#define SAC_MAX_RANGES		64	/* per port list */
#define SAC_NPORTS		65536
#define SAC_MAX_KEY		31
#define SAC_MAX_VALUE		127
#define SAC_MAX_WATCHDOG_S	600
#define SAC_MAX_DELAY_BOOT_S	3600
#define SAC_UNSET		(-2)	/* setting not in this file */
#define SAC_MAX_HISTORY		64	/* generations kept for a rollback */
#define SAC_MAX_HASHES		1024	/* per file */
#define SAC_HASH_LEN		32	/* SHA-256; shorter hashes are zero-padded */
#define SAC_HASH_BUCKETS	4096
#define SAC_OFF			(-1)

struct sac_record {
	struct list_head node;
	char id[SAC_MAX_ID + 1];
	unsigned int nfields;
	u32 digest;
};

struct sac_port_range {
	u16 first;
	u16 last;	/* inclusive */
};

/* "netblock <id> ports=...": one port list of the network audit. */
struct sac_netblock {
	struct list_head node;
	char id[SAC_MAX_ID + 1];
	unsigned int nranges;
	struct sac_port_range ranges[SAC_MAX_RANGES];
	u8 action;	/* enum sac_net_action */
};

/* What a port list does to the packets it names. */
enum sac_net_action { SAC_NET_AUDIT, SAC_NET_ALLOW, SAC_NET_BLOCK };

/* "option <key> <value>": a setting for the daemon, opaque to the driver. */
struct sac_option {
	struct list_head node;
	char key[SAC_MAX_KEY + 1];
	char value[SAC_MAX_VALUE + 1];
};

/* One open of /proc/sampledrv/content for writing: one channel file. */
struct sac_session {
	char *buf;		/* the whole file, NUL-terminated lines after parsing */
	size_t len;		/* bytes received */
	size_t parsed;		/* start of the first line not parsed yet */
	unsigned int lineno;
	bool magic_seen;
	int error;		/* sticky: a rejected file stays rejected */
	struct list_head records;
	unsigned int nrecords;
	struct list_head netblocks;
	unsigned int nnetblocks;
	struct list_head options;
	unsigned int noptions;
	int boot_watchdog_s;	/* SAC_UNSET, SAC_OFF or seconds */
	int delay_boot_s;	/* SAC_UNSET or seconds */
	int history_len;	/* SAC_UNSET or generations */
	/* "hashes <id> count=<n>" and the hash lines after it */
	u8 (*hashes)[SAC_HASH_LEN];
	unsigned int hashes_declared;
	unsigned int hashes_carried;
	unsigned long *hash_filter;	/* SAC_HASH_BUCKETS bits, built at release */
	int proc_burst_ms;	/* SAC_UNSET or the window */
	int proc_burst_slots;
	struct mutex lock;
};

static DEFINE_MUTEX(sac_active_lock);
static LIST_HEAD(sac_active);		/* the active rule set */
static unsigned int sac_active_count;
static unsigned int sac_files_loaded;
static unsigned int sac_files_rejected;
static struct proc_dir_entry *sac_proc_dir;

/* Settings of the active content, under sac_active_lock. */
static LIST_HEAD(sac_active_netblocks);
static unsigned int sac_active_netblock_count;
static LIST_HEAD(sac_active_options);
static unsigned int sac_active_option_count;
static int sac_boot_watchdog_s = SAC_OFF;
static unsigned int sac_delay_boot_s;

/*
 * The agent is starting (boot) from module load until sampleagentd writes
 * "up" to /proc/sampledrv/control. Content committed while it is starting
 * arms its boot watchdog; content committed later only sets the value for the
 * next boot. Under sac_active_lock.
 */
static bool sac_agent_up;
static bool sac_watchdog_armed;
static unsigned long sac_watchdog_deadline;
static int sac_watchdog_armed_s;	/* for the message; read in the timer */
static struct timer_list sac_watchdog;

/*
 * The compiled port table of the network audit: a bit per port. The netfilter
 * hook reads it in softirq context, so writers hold sac_net_lock with
 * interrupts off, and keep it short.
 */
static DEFINE_SPINLOCK(sac_net_lock);
static DECLARE_BITMAP(sac_port_table, SAC_NPORTS);
static u64 sac_net_audit_hits;		/* under sac_net_lock */
static bool sac_nf_registered;
/* The packet filter, compiled with the port table (same lock). */
static DECLARE_BITMAP(sac_block_table, SAC_NPORTS);
static DECLARE_BITMAP(sac_allow_table, SAC_NPORTS);
static bool sac_allow_list;		/* some port list allows: the rest is dropped */
static u64 sac_net_dropped;

/* One committed generation of the content, for a rollback. */
struct sac_generation {
	unsigned int generation;
	unsigned int records;
	unsigned int files_loaded;
};

/* The rollback history ("history <n>"), under sac_active_lock. */
static struct sac_generation **sac_history;	/* ring of sac_history_len slots */
static unsigned int sac_history_len;
static u8 sac_history_pos;
static unsigned int sac_generation;
/* The hash block list: a bit per bucket, under sac_active_lock. */
static DECLARE_BITMAP(sac_hash_filter, SAC_HASH_BUCKETS);
static unsigned int sac_hash_count;

static void sac_free_records(struct list_head *records)
{
	struct sac_record *rec, *tmp;

	list_for_each_entry_safe(rec, tmp, records, node) {
		list_del(&rec->node);
		kfree(rec);
	}
}

static void sac_free_netblocks(struct list_head *netblocks)
{
	struct sac_netblock *nb, *tmp;

	list_for_each_entry_safe(nb, tmp, netblocks, node) {
		list_del(&nb->node);
		kfree(nb);
	}
}

static void sac_free_options(struct list_head *options)
{
	struct sac_option *opt, *tmp;

	list_for_each_entry_safe(opt, tmp, options, node) {
		list_del(&opt->node);
		kfree(opt);
	}
}

/*
 * Interpret one record's fields: each field is a match pattern; fold them
 * into the record's digest and enforce the field size limit.
 *
 * BUG (deliberate, see the top of this file): the loop runs to the count the
 * record declares, not to the number of entries in @fields. noinline so the
 * crash report names this function.
 */
static noinline int sampledrv_parse_record(struct sac_record *rec, char *const *fields,
					   unsigned int declared)
{
	u32 digest = 2166136261u;	/* FNV-1a */
	unsigned int i;

	for (i = 0; i < declared; i++) {
		const char *field = fields[i];
		size_t len = 0;

		while (field[len]) {
			digest = (digest ^ (u8)field[len]) * 16777619u;
			len++;
		}
		if (len > SAC_MAX_FIELD) {
			pr_err("rule %s: field %u is %zu bytes long (max %d)\n",
			       rec->id, i + 1, len, SAC_MAX_FIELD);
			return -EINVAL;
		}
		digest = (digest ^ 0xff) * 16777619u;
	}
	rec->nfields = declared;
	rec->digest = digest;
	return 0;
}

/* "rule <id> fields=<declared> <f1>|...|<fn>", @args points past "rule ". */
static int sac_parse_rule(struct sac_session *s, char *args)
{
	char *id, *count, *list, *p;
	unsigned int declared, carried, i;
	char **fields;
	struct sac_record *rec;
	int ret;

	args = skip_spaces(args);
	id = strsep(&args, " \t");
	count = args ? strsep(&args, " \t") : NULL;
	list = args ? skip_spaces(args) : NULL;
	if (!id || !*id || !count || !list || !*list) {
		pr_err("line %u: expected 'rule <id> fields=<n> <f1>|...|<fn>'\n", s->lineno);
		return -EINVAL;
	}
	if (strlen(id) > SAC_MAX_ID) {
		pr_err("line %u: rule id longer than %d bytes\n", s->lineno, SAC_MAX_ID);
		return -EINVAL;
	}
	if (strncmp(count, "fields=", 7) || kstrtouint(count + 7, 10, &declared) ||
	    declared == 0 || declared > SAC_MAX_DECLARED) {
		pr_err("line %u: rule %s: bad field count '%s' (want fields=1..%d)\n",
		       s->lineno, id, count, SAC_MAX_DECLARED);
		return -EINVAL;
	}

	carried = 1;
	for (p = list; *p; p++)
		carried += (*p == '|');

	/*
	 * vzalloc, not kcalloc: a record may carry thousands of fields, and a
	 * physically contiguous array for it would be a high-order allocation
	 * that fails on a fragmented machine exactly when content updates
	 * arrive. Virtually contiguous pages are enough for a pointer array.
	 */
	fields = vzalloc(array_size(carried, sizeof(*fields)));
	if (!fields)
		return -ENOMEM;
	for (i = 0; i < carried; i++)
		fields[i] = strsep(&list, "|");

	rec = kzalloc(sizeof(*rec), GFP_KERNEL);
	if (!rec) {
		vfree(fields);
		return -ENOMEM;
	}
	strscpy(rec->id, id, sizeof(rec->id));

	/* Missing here: a check that declared == carried. */
	ret = sampledrv_parse_record(rec, fields, declared);
	vfree(fields);
	if (ret) {
		kfree(rec);
		return ret;
	}
	list_add_tail(&rec->node, &s->records);
	s->nrecords++;
	return 0;
}

/* The next blank-separated word of *args (NULL if none), *args advanced. */
static char *sac_next_word(char **args)
{
	char *word;

	if (!*args)
		return NULL;
	*args = skip_spaces(*args);
	if (!**args)
		return NULL;
	word = strsep(args, " \t");
	return word;
}

/* Nothing but blanks left on the line. */
static bool sac_line_done(char *args)
{
	return !args || !*skip_spaces(args);
}

static int sac_parse_port(struct sac_session *s, const char *id, const char *text, u16 *port)
{
	if (kstrtou16(text, 10, port) || *port == 0) {
		pr_err("line %u: netblock %s: bad port '%.16s' (want 1..65535)\n", s->lineno, id, text);
		return -EINVAL;
	}
	return 0;
}

/*
 * BUG (deliberate, the network fault mode; see the top of this file): listed
 * in the order of the documentation, not of enum sac_net_action.
 */
static const char *const sac_net_action_names[] = { "audit", "block", "allow" };

/* "action=<name>", or NULL for the default (audit). */
static int sac_parse_net_action(struct sac_session *s, const char *id, const char *word, u8 *action)
{
	unsigned int i;

	*action = SAC_NET_AUDIT;
	if (!word)
		return 0;
	if (strncmp(word, "action=", 7))
		goto bad;
	for (i = 0; i < ARRAY_SIZE(sac_net_action_names); i++) {
		if (!strcmp(word + 7, sac_net_action_names[i])) {
			*action = i;
			return 0;
		}
	}
bad:
	pr_err("line %u: netblock %s: bad '%.24s' (want action=audit|block|allow)\n", s->lineno, id, word);
	return -EINVAL;
}

/* "netblock <id> ports=<p>[,<p>|<first>-<last>]... [action=...]", @args points past "netblock ". */
static int sac_parse_netblock(struct sac_session *s, char *args)
{
	char *id, *ports, *action, *element, *dash;
	struct sac_netblock *nb;
	int ret = -EINVAL;

	id = sac_next_word(&args);
	ports = sac_next_word(&args);
	action = sac_next_word(&args);
	if (!id || !ports || strncmp(ports, "ports=", 6) || !ports[6] || !sac_line_done(args)) {
		pr_err("line %u: expected 'netblock <id> ports=<p>[,<first>-<last>]... [action=...]'\n", s->lineno);
		return -EINVAL;
	}
	if (strlen(id) > SAC_MAX_ID) {
		pr_err("line %u: netblock id longer than %d bytes\n", s->lineno, SAC_MAX_ID);
		return -EINVAL;
	}
	nb = kzalloc(sizeof(*nb), GFP_KERNEL);
	if (!nb)
		return -ENOMEM;
	strscpy(nb->id, id, sizeof(nb->id));
	if (sac_parse_net_action(s, id, action, &nb->action))
		goto fail;
	ports += 6;
	while ((element = strsep(&ports, ","))) {
		struct sac_port_range *range;

		if (nb->nranges == SAC_MAX_RANGES) {
			pr_err("line %u: netblock %s: more than %d ports or ranges\n",
			       s->lineno, id, SAC_MAX_RANGES);
			goto fail;
		}
		range = &nb->ranges[nb->nranges];
		dash = strchr(element, '-');
		if (dash)
			*dash = '\0';
		if (sac_parse_port(s, id, element, &range->first))
			goto fail;
		range->last = range->first;
		if (dash && sac_parse_port(s, id, dash + 1, &range->last))
			goto fail;
		if (range->last < range->first) {
			pr_err("line %u: netblock %s: range %u-%u is backwards\n",
			       s->lineno, id, range->first, range->last);
			goto fail;
		}
		nb->nranges++;
	}
	list_add_tail(&nb->node, &s->netblocks);
	s->nnetblocks++;
	return 0;
fail:
	kfree(nb);
	return ret;
}

/* "option <key> <value>": the value is the rest of the line. */
static int sac_parse_option(struct sac_session *s, char *args)
{
	struct sac_option *opt;
	char *key, *value;
	const char *p;

	key = sac_next_word(&args);
	value = args ? skip_spaces(args) : NULL;
	if (!key || !value || !*value) {
		pr_err("line %u: expected 'option <key> <value>'\n", s->lineno);
		return -EINVAL;
	}
	if (strlen(key) > SAC_MAX_KEY || strlen(value) > SAC_MAX_VALUE) {
		pr_err("line %u: option key longer than %d or value longer than %d bytes\n",
		       s->lineno, SAC_MAX_KEY, SAC_MAX_VALUE);
		return -EINVAL;
	}
	for (p = key; *p; p++) {
		if (!islower(*p) && !isdigit(*p) && *p != '-') {
			pr_err("line %u: option key '%s': want [a-z0-9-]\n", s->lineno, key);
			return -EINVAL;
		}
	}
	for (p = value; *p; p++) {
		if (!isprint(*p)) {
			pr_err("line %u: option %s: control character in the value\n", s->lineno, key);
			return -EINVAL;
		}
	}
	opt = kzalloc(sizeof(*opt), GFP_KERNEL);
	if (!opt)
		return -ENOMEM;
	strscpy(opt->key, key, sizeof(opt->key));
	strscpy(opt->value, value, sizeof(opt->value));
	list_add_tail(&opt->node, &s->options);
	s->noptions++;
	return 0;
}

/* "boot-watchdog <seconds>|off" */
static int sac_parse_boot_watchdog(struct sac_session *s, char *args)
{
	char *arg = sac_next_word(&args);
	unsigned int seconds;

	if (arg && !strcmp(arg, "off") && sac_line_done(args)) {
		s->boot_watchdog_s = SAC_OFF;
		return 0;
	}
	/*
	 * BUG (deliberate, the boot-loop fault mode; see the top of this file):
	 * the documented range is 1..SAC_MAX_WATCHDOG_S but only the upper
	 * bound is checked, so 0 is accepted and arms an expired watchdog.
	 */
	if (!arg || kstrtouint(arg, 10, &seconds) || seconds > SAC_MAX_WATCHDOG_S ||
	    !sac_line_done(args)) {
		pr_err("line %u: expected 'boot-watchdog <seconds>' (1..%d) or 'boot-watchdog off'\n",
		       s->lineno, SAC_MAX_WATCHDOG_S);
		return -EINVAL;
	}
	s->boot_watchdog_s = seconds;
	return 0;
}

/* "delay-boot <seconds>" */
static int sac_parse_delay_boot(struct sac_session *s, char *args)
{
	char *arg = sac_next_word(&args);
	unsigned int seconds;

	if (!arg || kstrtouint(arg, 10, &seconds) || seconds > SAC_MAX_DELAY_BOOT_S ||
	    !sac_line_done(args)) {
		pr_err("line %u: expected 'delay-boot <seconds>' (0..%d)\n",
		       s->lineno, SAC_MAX_DELAY_BOOT_S);
		return -EINVAL;
	}
	s->delay_boot_s = seconds;
	return 0;
}

/* "history <n>": keep the last n generations (1..64, 0 = off) */
static int sac_parse_history(struct sac_session *s, char *args)
{
	char *arg = sac_next_word(&args);
	unsigned int n;

	if (!arg || kstrtouint(arg, 10, &n) || n > SAC_MAX_HISTORY || !sac_line_done(args)) {
		pr_err("line %u: expected 'history <generations>' (0..%d)\n", s->lineno, SAC_MAX_HISTORY);
		return -EINVAL;
	}
	s->history_len = n;
	return 0;
}

static void sac_history_free(void)
{
	unsigned int i;

	for (i = 0; i < sac_history_len; i++)
		kfree(sac_history[i]);
	vfree(sac_history);
	sac_history = NULL;
	sac_history_len = 0;
	sac_history_pos = 0;
}

/* A new ring of @len generations; sac_active_lock held. */
static int sac_history_resize(unsigned int len)
{
	unsigned int i;

	sac_history_free();
	if (!len)
		return 0;
	sac_history = vzalloc(array_size(len, sizeof(*sac_history)));
	if (!sac_history)
		return -ENOMEM;
	for (i = 0; i < len; i++) {
		sac_history[i] = kzalloc(sizeof(**sac_history), GFP_KERNEL);
		if (!sac_history[i]) {
			sac_history_len = i;
			sac_history_free();
			return -ENOMEM;
		}
	}
	sac_history_len = len;
	pr_info("rollback history: last %u generations\n", len);
	return 0;
}

/*
 * Every commit is a generation: remember it in the rollback ring.
 * sac_active_lock held.
 *
 * BUG (deliberate, see the top of this file): the position wraps when it
 * passes the ring's length, not when it reaches it, so slot
 * sac_history_len (one past the ring: NULL) is written once per lap.
 * noinline so the crash report names this function.
 */
static noinline void sampledrv_record_generation(struct sac_session *s)
{
	struct sac_generation *g;

	if (s->history_len != SAC_UNSET && s->history_len != sac_history_len &&
	    sac_history_resize(s->history_len))
		pr_warn("rollback history: out of memory, off\n");
	sac_generation++;
	if (!sac_history_len)
		return;
	if (++sac_history_pos > sac_history_len)
		sac_history_pos = 0;
	g = sac_history[sac_history_pos];
	g->generation = sac_generation;
	g->records = sac_active_count;
	g->files_loaded = sac_files_loaded;
}

/* "hashes <id> count=<n>": a block list of n hashes follows, one per line. */
static int sac_parse_hashes(struct sac_session *s, char *args)
{
	char *id = sac_next_word(&args);
	char *count = sac_next_word(&args);
	unsigned int n;

	if (!id || !count || strncmp(count, "count=", 6) || kstrtouint(count + 6, 10, &n) || !n ||
	    n > SAC_MAX_HASHES || !sac_line_done(args) || s->hashes) {
		pr_err("line %u: expected one 'hashes <id> count=<1..%d>' per file\n", s->lineno,
		       SAC_MAX_HASHES);
		return -EINVAL;
	}
	s->hashes = kvzalloc(array_size(SAC_MAX_HASHES, SAC_HASH_LEN), GFP_KERNEL);
	if (!s->hashes)
		return -ENOMEM;
	s->hashes_declared = n;
	return 0;
}

/* A line of hex digits after a "hashes" header (MD5, SHA-1 or SHA-256). */
static bool sac_hash_line(struct sac_session *s, const char *line)
{
	size_t len = strlen(line);

	return s->hashes && len && len <= 2 * SAC_HASH_LEN && strspn(line, "0123456789abcdef") == len;
}

static int sac_parse_hash(struct sac_session *s, const char *line)
{
	u8 *hash;
	size_t len = strlen(line);

	if (s->hashes_carried == SAC_MAX_HASHES) {
		pr_err("line %u: more than %d hashes\n", s->lineno, SAC_MAX_HASHES);
		return -EINVAL;
	}
	hash = s->hashes[s->hashes_carried];
	/* shorter hashes are zero-padded; an odd digit out is dropped */
	if (hex2bin(hash, line, len / 2))
		return -EINVAL;
	s->hashes_carried++;
	return 0;
}

/*
 * At the end of a file with a hash list: the list into a table exactly as
 * large as it is, then each hash into its filter bucket.
 *
 * BUG (deliberate, see the top of this file): the loop trusts the count the
 * header declares, not the hashes the file carries. noinline so the crash
 * report names this function.
 */
static noinline int sampledrv_index_hashes(struct sac_session *s)
{
	u8 (*table)[SAC_HASH_LEN];
	unsigned int i;

	if (!s->hashes)
		return 0;
	s->hash_filter = bitmap_zalloc(SAC_HASH_BUCKETS, GFP_KERNEL);
	table = vmalloc(array_size(max(s->hashes_carried, 1u), SAC_HASH_LEN));
	if (!s->hash_filter || !table) {
		vfree(table);
		return -ENOMEM;
	}
	memcpy(table, s->hashes, array_size(s->hashes_carried, SAC_HASH_LEN));
	for (i = 0; i < s->hashes_declared; i++)
		__set_bit((table[i][0] << 4 | table[i][1] >> 4) % SAC_HASH_BUCKETS, s->hash_filter);
	vfree(table);
	return 0;
}

/* ---- fork-burst detection ("proc-burst"): see bug 6 at the top */

#define SAC_MAX_BURST_MS	60000
#define SAC_MIN_BURST_SLOTS	16
#define SAC_MAX_BURST_SLOTS	65536

struct sac_proc_start {
	pid_t pid;
	u32 cpu;
	unsigned long when;	/* jiffies */
};

static DEFINE_SPINLOCK(sac_proc_lock);
static struct sac_proc_start *sac_proc_table;	/* under sac_proc_lock */
static unsigned int sac_proc_slots;
static unsigned int sac_proc_used;
static unsigned long sac_proc_window;		/* jiffies */
static u64 sac_proc_bursts;
static struct tracepoint *sac_fork_tp;
static bool sac_fork_registered;

/* "proc-burst <window-ms> <slots>" */
static int sac_parse_proc_burst(struct sac_session *s, char *args)
{
	char *window = sac_next_word(&args);
	char *slots = sac_next_word(&args);
	unsigned int ms, n;

	if (!window || !slots || kstrtouint(window, 10, &ms) || kstrtouint(slots, 10, &n) ||
	    !ms || ms > SAC_MAX_BURST_MS || n < SAC_MIN_BURST_SLOTS || n > SAC_MAX_BURST_SLOTS ||
	    !sac_line_done(args)) {
		pr_err("line %u: expected 'proc-burst <window-ms> <slots>' (1..%d, %d..%d)\n",
		       s->lineno, SAC_MAX_BURST_MS, SAC_MIN_BURST_SLOTS, SAC_MAX_BURST_SLOTS);
		return -EINVAL;
	}
	s->proc_burst_ms = ms;
	s->proc_burst_slots = n;
	return 0;
}

/* sched_process_fork: one more process start in the window. */
static noinline void sampledrv_track_fork(void *data, struct task_struct *parent,
					  struct task_struct *child)
{
	unsigned long flags, now = jiffies;
	unsigned int old = 0;

	spin_lock_irqsave(&sac_proc_lock, flags);
	if (!sac_proc_table)
		goto out;
	/* the table is in start order: drop what left the window */
	while (old < sac_proc_used && time_after(now, sac_proc_table[old].when + sac_proc_window))
		old++;
	if (old) {
		memmove(sac_proc_table, sac_proc_table + old,
			(sac_proc_used - old) * sizeof(*sac_proc_table));
		sac_proc_used -= old;
	}
	/*
	 * BUG (deliberate, the process-storm fault mode; see the top of this
	 * file): a full table has sac_proc_used == sac_proc_slots, so this
	 * lets one more start through and writes it past the end.
	 */
	if (sac_proc_used > sac_proc_slots) {
		if (!sac_proc_bursts++)
			pr_warn("process burst: %u starts within %u ms\n", sac_proc_used,
				jiffies_to_msecs(sac_proc_window));
		goto out;
	}
	sac_proc_table[sac_proc_used].pid = child->pid;
	sac_proc_table[sac_proc_used].cpu = raw_smp_processor_id();
	sac_proc_table[sac_proc_used].when = now;
	sac_proc_used++;
out:
	spin_unlock_irqrestore(&sac_proc_lock, flags);
}

static void sac_find_fork_tp(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "sched_process_fork"))
		sac_fork_tp = tp;
}

/* A committed proc-burst: a fresh table, the tracking on. */
static void sac_proc_burst_commit(const struct sac_session *s)
{
	struct sac_proc_start *table, *old;
	unsigned long flags;

	if (s->proc_burst_ms == SAC_UNSET)
		return;
	table = vzalloc(array_size(s->proc_burst_slots, sizeof(*table)));
	if (!table) {
		pr_err("proc-burst: no memory for %d slots\n", s->proc_burst_slots);
		return;
	}
	if (!sac_fork_registered) {
		for_each_kernel_tracepoint(sac_find_fork_tp, NULL);
		sac_fork_registered = sac_fork_tp &&
			!tracepoint_probe_register(sac_fork_tp, sampledrv_track_fork, NULL);
		if (!sac_fork_registered) {
			pr_warn("proc-burst: process starts cannot be tracked here\n");
			vfree(table);
			return;
		}
	}
	spin_lock_irqsave(&sac_proc_lock, flags);
	old = sac_proc_table;
	sac_proc_table = table;
	sac_proc_slots = s->proc_burst_slots;
	sac_proc_used = 0;
	sac_proc_window = msecs_to_jiffies(s->proc_burst_ms);
	spin_unlock_irqrestore(&sac_proc_lock, flags);
	vfree(old);
	pr_info("proc-burst: tracking process starts, %d slots for %d ms\n",
		s->proc_burst_slots, s->proc_burst_ms);
}

static void sac_proc_burst_stop(void)
{
	if (sac_fork_registered) {
		tracepoint_probe_unregister(sac_fork_tp, sampledrv_track_fork, NULL);
		tracepoint_synchronize_unregister();
	}
	vfree(sac_proc_table);
	sac_proc_table = NULL;
}

/* ---- trusted signers ("signer"): see bug 8 at the top */

#define SAC_THUMB_LEN		32	/* SHA-256 */
#define SAC_THUMB_PREFIX	"sha256:"

/* Decoded thumbprints: born zeroed (the constructor), zeroed again on free. */
static struct kmem_cache *sac_thumb_cache;
static u32 sac_signer_digest;		/* the trusted signers, folded; under sac_active_lock */
static unsigned int sac_signer_count;

static void sac_thumb_ctor(void *object)
{
	memset(object, 0, SAC_THUMB_LEN);
}

/*
 * "signer <id> [sha256:]<thumbprint>", @args points past "signer ".
 *
 * BUG (deliberate, see the top of this file): the bound allows for the
 * prefix after the prefix was stripped. noinline so the SLUB report's
 * allocation site and call trace name this function.
 */
static noinline int sampledrv_parse_signer(struct sac_session *s, char *args)
{
	char *id, *hex;
	size_t len;
	u8 *thumb;
	u32 digest = 2166136261u;	/* FNV-1a */
	unsigned int i;
	int ret = 0;

	args = skip_spaces(args);
	id = strsep(&args, " \t");
	hex = args ? strim(args) : NULL;
	if (!id || !*id || !hex || !*hex) {
		pr_err("line %u: expected 'signer <id> [%s]<thumbprint>'\n", s->lineno, SAC_THUMB_PREFIX);
		return -EINVAL;
	}
	if (!strncmp(hex, SAC_THUMB_PREFIX, strlen(SAC_THUMB_PREFIX)))
		hex += strlen(SAC_THUMB_PREFIX);
	len = strlen(hex);
	if (len < 2 || len % 2 || len > 2 * SAC_THUMB_LEN + strlen(SAC_THUMB_PREFIX)) {
		pr_err("line %u: signer %s: thumbprint must be %d hex digits\n", s->lineno, id,
		       2 * SAC_THUMB_LEN);
		return -EINVAL;
	}
	thumb = kmem_cache_alloc(sac_thumb_cache, GFP_KERNEL);
	if (!thumb)
		return -ENOMEM;
	if (hex2bin(thumb, hex, len / 2)) {
		pr_err("line %u: signer %s: thumbprint is not hex\n", s->lineno, id);
		ret = -EINVAL;
		goto out;
	}
	for (i = 0; i < SAC_THUMB_LEN; i++)
		digest = (digest ^ thumb[i]) * 16777619u;
	mutex_lock(&sac_active_lock);
	sac_signer_digest ^= digest;
	sac_signer_count++;
	mutex_unlock(&sac_active_lock);
	pr_info("trusted signer %s\n", id);
out:
	memset(thumb, 0, SAC_THUMB_LEN);
	kmem_cache_free(sac_thumb_cache, thumb);
	return ret;
}

/* ---- indicators of compromise ("ioc"): see bug 9 at the top */

#define SAC_IOC_MAX		64	/* bytes in one pattern */
#define SAC_IOC_FP_LEN		16	/* bytes the fast filter folds */
#define SAC_IOC_BUCKETS		1024

struct sac_ioc {
	u16 len;
	u8 bytes[];
};

static DECLARE_BITMAP(sac_ioc_filter, SAC_IOC_BUCKETS);	/* under sac_active_lock */
static unsigned int sac_ioc_count;

/*
 * The filter's fingerprint of a pattern: FNV-1a over its first bytes.
 * BUG (deliberate, see the top of this file): always SAC_IOC_FP_LEN bytes,
 * also of a shorter pattern. noinline so that KASAN's report names it.
 */
static noinline u32 sampledrv_ioc_fingerprint(const struct sac_ioc *ioc)
{
	u32 hash = 2166136261u;
	unsigned int i;

	for (i = 0; i < SAC_IOC_FP_LEN; i++)
		hash = (hash ^ READ_ONCE(ioc->bytes[i])) * 16777619u;
	return hash;
}

/*
 * "ioc <id> <hex bytes>", @args points past "ioc ".
 * BUG (deliberate, see the top of this file): a pattern whose bucket the
 * filter has already returns early without freeing it. noinline so that
 * kmemleak's backtrace names it.
 */
static noinline int sac_parse_ioc(struct sac_session *s, char *args)
{
	struct sac_ioc *ioc;
	char *id, *hex;
	size_t len;
	u32 fingerprint;

	args = skip_spaces(args);
	id = strsep(&args, " \t");
	hex = args ? strim(args) : NULL;
	if (!id || !*id || !hex || !*hex) {
		pr_err("line %u: expected 'ioc <id> <hex bytes>'\n", s->lineno);
		return -EINVAL;
	}
	len = strlen(hex);
	if (len < 2 || len % 2 || len > 2 * SAC_IOC_MAX) {
		pr_err("line %u: ioc %s: pattern must be 1 to %d bytes of hex\n", s->lineno, id,
		       SAC_IOC_MAX);
		return -EINVAL;
	}
	ioc = kmalloc(struct_size(ioc, bytes, len / 2), GFP_KERNEL);
	if (!ioc)
		return -ENOMEM;
	ioc->len = len / 2;
	if (hex2bin(ioc->bytes, hex, ioc->len)) {
		pr_err("line %u: ioc %s: pattern is not hex\n", s->lineno, id);
		kfree(ioc);
		return -EINVAL;
	}
	fingerprint = sampledrv_ioc_fingerprint(ioc);
	mutex_lock(&sac_active_lock);
	if (test_bit(fingerprint % SAC_IOC_BUCKETS, sac_ioc_filter)) {
		/* the filter has it already: nothing to add */
		mutex_unlock(&sac_active_lock);
		pr_info("ioc %s: already in the filter\n", id);
		return 0;
	}
	__set_bit(fingerprint % SAC_IOC_BUCKETS, sac_ioc_filter);
	sac_ioc_count++;
	mutex_unlock(&sac_active_lock);
	pr_info("ioc %s (%u bytes)\n", id, ioc->len);
	kfree(ioc);
	return 0;
}

/* @line starts with directive @name followed by a blank. */
static bool sac_directive(const char *line, const char *name)
{
	size_t len = strlen(name);

	return !strncmp(line, name, len) && (line[len] == ' ' || line[len] == '\t');
}

static int sac_parse_line(struct sac_session *s, char *line)
{
	line = strim(line);
	if (!*line || *line == '#')
		return 0;
	if (!s->magic_seen) {
		if (strcmp(line, SAC_MAGIC)) {
			pr_err("line %u: not a channel file (first line must be '%s')\n",
			       s->lineno, SAC_MAGIC);
			return -EINVAL;
		}
		s->magic_seen = true;
		return 0;
	}
	if (sac_directive(line, "rule"))
		return sac_parse_rule(s, line + 5);
	if (sac_directive(line, "netblock"))
		return sac_parse_netblock(s, line + 9);
	if (sac_directive(line, "option"))
		return sac_parse_option(s, line + 7);
	if (sac_directive(line, "boot-watchdog"))
		return sac_parse_boot_watchdog(s, line + 14);
	if (sac_directive(line, "delay-boot"))
		return sac_parse_delay_boot(s, line + 11);
	if (sac_directive(line, "history"))
		return sac_parse_history(s, line + 8);
	if (sac_directive(line, "hashes"))
		return sac_parse_hashes(s, line + 7);
	if (sac_hash_line(s, line))
		return sac_parse_hash(s, line);
	if (sac_directive(line, "proc-burst"))
		return sac_parse_proc_burst(s, line + 11);
	if (sac_directive(line, "signer"))
		return sampledrv_parse_signer(s, line + 7);
	if (sac_directive(line, "ioc"))
		return sac_parse_ioc(s, line + 4);
	pr_err("line %u: unknown directive '%.32s'\n", s->lineno, line);
	return -EINVAL;
}

/* Parse every complete line received so far; with @final, the rest too. */
static int sac_parse_pending(struct sac_session *s, bool final)
{
	while (s->parsed < s->len) {
		char *line = s->buf + s->parsed;
		char *nl = memchr(line, '\n', s->len - s->parsed);
		int ret;

		if (!nl) {
			if (!final)
				return 0;
			nl = s->buf + s->len;	/* buf has room for this NUL */
		}
		*nl = '\0';
		s->parsed = nl - s->buf + 1;
		s->lineno++;
		ret = sac_parse_line(s, line);
		if (ret)
			return ret;
	}
	return 0;
}

static int sac_content_open(struct inode *inode, struct file *file)
{
	struct sac_session *s;

	if (!(file->f_mode & FMODE_WRITE) || (file->f_mode & FMODE_READ))
		return -EACCES;
	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	s->buf = kvmalloc(SAC_MAX_CONTENT + 1, GFP_KERNEL);
	if (!s->buf) {
		kfree(s);
		return -ENOMEM;
	}
	INIT_LIST_HEAD(&s->records);
	INIT_LIST_HEAD(&s->netblocks);
	INIT_LIST_HEAD(&s->options);
	s->boot_watchdog_s = SAC_UNSET;
	s->delay_boot_s = SAC_UNSET;
	s->history_len = SAC_UNSET;
	s->proc_burst_ms = SAC_UNSET;
	mutex_init(&s->lock);
	file->private_data = s;
	return 0;
}

static ssize_t sac_content_write(struct file *file, const char __user *ubuf, size_t count,
				 loff_t *ppos)
{
	struct sac_session *s = file->private_data;
	ssize_t ret;

	mutex_lock(&s->lock);
	ret = s->error;
	if (ret)
		goto out;
	if (count > SAC_MAX_CONTENT - s->len) {
		pr_err("channel file larger than %d bytes\n", SAC_MAX_CONTENT);
		ret = s->error = -EFBIG;
		goto out;
	}
	if (copy_from_user(s->buf + s->len, ubuf, count)) {
		ret = -EFAULT;
		goto out;
	}
	s->len += count;
	/*
	 * Poison the session while parsing: if the parser oopses, the writer
	 * dies here and release() must discard the file, not commit the rest.
	 */
	s->error = -EIO;
	ret = sac_parse_pending(s, false);
	s->error = ret;
	if (ret)
		goto out;
	*ppos += count;
	ret = count;
out:
	mutex_unlock(&s->lock);
	return ret;
}

/*
 * Sets the bits of one port list in the port table. Called with sac_net_lock
 * held and interrupts off.
 *
 * BUG (deliberate, the hang fault mode; see the top of this file): @port is a
 * u16 and the range is inclusive, so for a range ending at 65535 "port <=
 * last" is always true: port wraps to 0 and the loop never ends. noinline so
 * a lockup report (where there is one) names this function.
 */
static noinline void sampledrv_compile_ports(unsigned long *table, const struct sac_netblock *nb)
{
	unsigned int i;

	for (i = 0; i < nb->nranges; i++) {
		u16 port;

		for (port = nb->ranges[i].first; port <= nb->ranges[i].last; port++)
			__set_bit(port, table);
	}
}

/* The block and allow tables from the active port lists; both locks held. */
static void sac_compile_net_filter(void)
{
	struct sac_netblock *nb;

	bitmap_zero(sac_block_table, SAC_NPORTS);
	bitmap_zero(sac_allow_table, SAC_NPORTS);
	sac_allow_list = false;
	list_for_each_entry(nb, &sac_active_netblocks, node) {
		if (nb->action == SAC_NET_BLOCK)
			sampledrv_compile_ports(sac_block_table, nb);
		if (nb->action == SAC_NET_ALLOW) {
			sampledrv_compile_ports(sac_allow_table, nb);
			sac_allow_list = true;
		}
	}
}

/* The filter's verdict on an inbound packet to @port; sac_net_lock held. */
static unsigned int sac_net_verdict(u16 port)
{
	if (test_bit(port, sac_block_table) || (sac_allow_list && !test_bit(port, sac_allow_table))) {
		sac_net_dropped++;
		return NF_DROP;
	}
	return NF_ACCEPT;
}

/* Rebuilds the port table from the active port lists; sac_active_lock held. */
static void sac_compile_port_table(void)
{
	struct sac_netblock *nb;
	unsigned long flags;

	pr_info("compiling the network audit table: %u port lists\n", sac_active_netblock_count);
	spin_lock_irqsave(&sac_net_lock, flags);
	bitmap_zero(sac_port_table, SAC_NPORTS);
	list_for_each_entry(nb, &sac_active_netblocks, node)
		sampledrv_compile_ports(sac_port_table, nb);
	sac_compile_net_filter();
	spin_unlock_irqrestore(&sac_net_lock, flags);
	pr_info("network audit: %u ports audited\n", bitmap_weight(sac_port_table, SAC_NPORTS));
	pr_info("network filter: %u ports blocked%s\n", bitmap_weight(sac_block_table, SAC_NPORTS),
		sac_allow_list ? ", allow list on: other ports dropped" : "");
}

/*
 * The agent did not report up in time after loading its content at boot:
 * restart the machine rather than run it unprotected. emergency_restart(),
 * not kernel_restart(): a machine whose agent is stuck may not shut down
 * cleanly. It runs from a work item, not the timer: in softirq context the
 * message can still be queued for a console another CPU holds when the
 * machine resets, and the one line that says why is lost (seen in CI).
 * console_lock() + console_unlock() in process context prints every
 * pending message before the restart.
 */
static void sac_restart_now(struct work_struct *work)
{
	pr_emerg("boot watchdog expired: the agent did not report up within %d s of loading its content; restarting the machine\n",
		 READ_ONCE(sac_watchdog_armed_s));
	console_lock();
	console_unlock();
	emergency_restart();
}

static DECLARE_WORK(sac_restart_work, sac_restart_now);

static void sac_watchdog_fire(struct timer_list *timer)
{
	schedule_work(&sac_restart_work);
}

/* sac_active_lock held. */
static void sac_watchdog_arm(void)
{
	if (sac_boot_watchdog_s == SAC_OFF) {
		if (sac_watchdog_armed && del_timer_sync(&sac_watchdog))
			pr_info("boot watchdog switched off\n");
		sac_watchdog_armed = false;
		return;
	}
	WRITE_ONCE(sac_watchdog_armed_s, sac_boot_watchdog_s);
	sac_watchdog_deadline = jiffies + sac_boot_watchdog_s * HZ;
	sac_watchdog_armed = true;
	mod_timer(&sac_watchdog, sac_watchdog_deadline);
	pr_info("boot watchdog armed: the machine restarts unless the agent reports up within %d s\n",
		sac_boot_watchdog_s);
}

/* Moves every entry of @from to @to, replacing the entry of @to with the same key. */
#define sac_merge(from, to, type, key_field, to_count)				\
	do {									\
		type *new_, *new_tmp_, *old_, *old_tmp_;			\
		list_for_each_entry_safe(new_, new_tmp_, from, node) {		\
			list_for_each_entry_safe(old_, old_tmp_, to, node) {	\
				if (!strcmp(old_->key_field, new_->key_field)) {\
					list_del(&old_->node);			\
					kfree(old_);				\
					(to_count)--;				\
				}						\
			}							\
			list_move_tail(&new_->node, to);			\
			(to_count)++;						\
		}								\
	} while (0)

/* Commit a complete, valid channel file: see the top of this file. */
static void sac_commit(struct sac_session *s)
{
	mutex_lock(&sac_active_lock);
	sac_merge(&s->records, &sac_active, struct sac_record, id, sac_active_count);
	sac_files_loaded++;
	sampledrv_record_generation(s);
	if (s->hash_filter) {
		bitmap_or(sac_hash_filter, sac_hash_filter, s->hash_filter, SAC_HASH_BUCKETS);
		sac_hash_count += s->hashes_carried;
		pr_info("hash block list: %u hashes (%u in all)\n", s->hashes_carried, sac_hash_count);
	}
	pr_info("loaded channel file: %u records (active set: %u records)\n",
		s->nrecords, sac_active_count);

	if (s->nnetblocks) {
		sac_merge(&s->netblocks, &sac_active_netblocks, struct sac_netblock, id,
			  sac_active_netblock_count);
		sac_compile_port_table();
	}
	if (s->noptions) {
		sac_merge(&s->options, &sac_active_options, struct sac_option, key,
			  sac_active_option_count);
		pr_info("agent options: %u set by this file (%u active)\n", s->noptions,
			sac_active_option_count);
	}
	if (s->delay_boot_s != SAC_UNSET) {
		sac_delay_boot_s = s->delay_boot_s;
		if (sac_delay_boot_s)
			pr_info("delay-boot: the agent's boot hook holds the boot for %u s\n",
				sac_delay_boot_s);
		else
			pr_info("delay-boot: off\n");
	}
	if (s->boot_watchdog_s != SAC_UNSET) {
		sac_boot_watchdog_s = s->boot_watchdog_s;
		if (!sac_agent_up)
			sac_watchdog_arm();
		else if (sac_boot_watchdog_s == SAC_OFF)
			pr_info("boot watchdog: off from the next boot\n");
		else
			pr_info("boot watchdog: %d s from the next boot\n", sac_boot_watchdog_s);
	}
	sac_proc_burst_commit(s);
	mutex_unlock(&sac_active_lock);
}

static int sac_content_release(struct inode *inode, struct file *file)
{
	struct sac_session *s = file->private_data;
	int ret = s->error;

	if (!ret && s->len > 0) {
		ret = sac_parse_pending(s, true);
		if (!ret && !s->magic_seen) {
			pr_err("channel file has no '%s' line\n", SAC_MAGIC);
			ret = -EINVAL;
		}
		if (!ret)
			ret = sampledrv_index_hashes(s);
	}
	if (s->len > 0) {
		if (ret) {
			pr_err("channel file rejected (error %d), active set unchanged\n", ret);
			mutex_lock(&sac_active_lock);
			sac_files_rejected++;
			mutex_unlock(&sac_active_lock);
		} else {
			sac_commit(s);
		}
	}
	sac_free_records(&s->records);
	sac_free_netblocks(&s->netblocks);
	sac_free_options(&s->options);
	kvfree(s->hashes);
	bitmap_free(s->hash_filter);
	kvfree(s->buf);
	kfree(s);
	return 0;
}

static const struct proc_ops sac_content_ops = {
	.proc_open	= sac_content_open,
	.proc_write	= sac_content_write,
	.proc_release	= sac_content_release,
	.proc_lseek	= noop_llseek,
};

static int sac_status_show(struct seq_file *m, void *v)
{
	mutex_lock(&sac_active_lock);
	seq_printf(m, "records %u\n", sac_active_count);
	seq_printf(m, "files_loaded %u\n", sac_files_loaded);
	seq_printf(m, "files_rejected %u\n", sac_files_rejected);
	seq_printf(m, "version %s\n", SAC_VERSION);
	seq_printf(m, "netblocks %u\n", sac_active_netblock_count);
	seq_printf(m, "options %u\n", sac_active_option_count);
	if (sac_boot_watchdog_s == SAC_OFF)
		seq_puts(m, "boot_watchdog off\n");
	else
		seq_printf(m, "boot_watchdog %d\n", sac_boot_watchdog_s);
	seq_printf(m, "delay_boot %u\n", sac_delay_boot_s);
	seq_printf(m, "agent_up %d\n", sac_agent_up);
	spin_lock_irq(&sac_net_lock);
	seq_printf(m, "net_audit_hits %llu\n", sac_net_audit_hits);
	seq_printf(m, "net_dropped %llu\n", sac_net_dropped);
	spin_unlock_irq(&sac_net_lock);
	seq_printf(m, "generation %u\n", sac_generation);
	seq_printf(m, "hashes %u\n", sac_hash_count);
	seq_printf(m, "signers %u\n", sac_signer_count);
	seq_printf(m, "iocs %u\n", sac_ioc_count);
	mutex_unlock(&sac_active_lock);
	return 0;
}

static int sac_status_open(struct inode *inode, struct file *file)
{
	return single_open(file, sac_status_show, NULL);
}

static const struct proc_ops sac_status_ops = {
	.proc_open	= sac_status_open,
	.proc_read	= seq_read,
	.proc_lseek	= seq_lseek,
	.proc_release	= single_release,
};

/* /proc/sampledrv/options: "<key> <value>" per line, for sampleagentd. */
static int sac_options_show(struct seq_file *m, void *v)
{
	struct sac_option *opt;

	mutex_lock(&sac_active_lock);
	list_for_each_entry(opt, &sac_active_options, node)
		seq_printf(m, "%s %s\n", opt->key, opt->value);
	mutex_unlock(&sac_active_lock);
	return 0;
}

static int sac_options_open(struct inode *inode, struct file *file)
{
	return single_open(file, sac_options_show, NULL);
}

static const struct proc_ops sac_options_ops = {
	.proc_open	= sac_options_open,
	.proc_read	= seq_read,
	.proc_lseek	= seq_lseek,
	.proc_release	= single_release,
};

/*
 * /proc/sampledrv/control: sampleagentd writes "up" once it has loaded its
 * content. That ends the boot phase: a pending boot watchdog is disarmed,
 * unless it has already expired (a late agent does not rescue the boot: the
 * timer fires at the next tick).
 */
static ssize_t sac_control_write(struct file *file, const char __user *ubuf, size_t count,
				 loff_t *ppos)
{
	char cmd[16];
	size_t len = min(count, sizeof(cmd) - 1);

	if (copy_from_user(cmd, ubuf, len))
		return -EFAULT;
	cmd[len] = '\0';
	if (strcmp(strim(cmd), "up"))
		return -EINVAL;
	mutex_lock(&sac_active_lock);
	if (!sac_agent_up)
		pr_info("agent up\n");
	sac_agent_up = true;
	if (sac_watchdog_armed && time_before(jiffies, sac_watchdog_deadline) &&
	    del_timer_sync(&sac_watchdog)) {
		sac_watchdog_armed = false;
		pr_info("boot watchdog disarmed: the agent is up\n");
	}
	mutex_unlock(&sac_active_lock);
	return count;
}

static const struct proc_ops sac_control_ops = {
	.proc_write	= sac_control_write,
	.proc_lseek	= noop_llseek,
};

/* Network audit and filter: inbound IPv4 TCP/UDP packets by destination port. */
static unsigned int sac_nf_hook(void *priv, struct sk_buff *skb, const struct nf_hook_state *state)
{
	const struct iphdr *iph = ip_hdr(skb);
	__be16 buf[2];
	const __be16 *ports;
	unsigned long flags;
	unsigned int verdict;

	if (iph->protocol != IPPROTO_TCP && iph->protocol != IPPROTO_UDP)
		return NF_ACCEPT;
	if (ntohs(iph->frag_off) & IP_OFFSET)
		return NF_ACCEPT;
	ports = skb_header_pointer(skb, iph->ihl * 4, sizeof(buf), buf);
	if (!ports)
		return NF_ACCEPT;
	spin_lock_irqsave(&sac_net_lock, flags);
	if (test_bit(ntohs(ports[1]), sac_port_table))
		sac_net_audit_hits++;
	verdict = sac_net_verdict(ntohs(ports[1]));
	spin_unlock_irqrestore(&sac_net_lock, flags);
	return verdict;
}

static const struct nf_hook_ops sac_nf_ops = {
	.hook		= sac_nf_hook,
	.pf		= NFPROTO_IPV4,
	.hooknum	= NF_INET_LOCAL_IN,
	.priority	= NF_IP_PRI_FILTER,
};

static int __init sampledrv_init(void)
{
	sac_proc_dir = proc_mkdir("sampledrv", NULL);
	if (!sac_proc_dir)
		return -ENOMEM;
	if (!proc_create("content", 0200, sac_proc_dir, &sac_content_ops) ||
	    !proc_create("status", 0444, sac_proc_dir, &sac_status_ops) ||
	    !proc_create("options", 0444, sac_proc_dir, &sac_options_ops) ||
	    !proc_create("control", 0200, sac_proc_dir, &sac_control_ops)) {
		proc_remove(sac_proc_dir);
		return -ENOMEM;
	}
	timer_setup(&sac_watchdog, sac_watchdog_fire, 0);
	sac_thumb_cache = kmem_cache_create("sac_thumbprint", SAC_THUMB_LEN, 0, 0, sac_thumb_ctor);
	if (!sac_thumb_cache) {
		proc_remove(sac_proc_dir);
		return -ENOMEM;
	}
	/* The audit is an extra: the agent works without it. */
	sac_nf_registered = !nf_register_net_hook(&init_net, &sac_nf_ops);
	if (!sac_nf_registered)
		pr_warn("network audit unavailable (netfilter hook not registered)\n");
	pr_info("sample endpoint driver %s loaded\n", SAC_VERSION);
	return 0;
}

static void __exit sampledrv_exit(void)
{
	proc_remove(sac_proc_dir);
	if (sac_nf_registered)
		nf_unregister_net_hook(&init_net, &sac_nf_ops);
	del_timer_sync(&sac_watchdog);
	cancel_work_sync(&sac_restart_work);
	sac_proc_burst_stop();
	sac_free_records(&sac_active);
	sac_free_netblocks(&sac_active_netblocks);
	sac_free_options(&sac_active_options);
	sac_history_free();
	kmem_cache_destroy(sac_thumb_cache);
	pr_info("unloaded\n");
}

module_init(sampledrv_init);
module_exit(sampledrv_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("labgate sample endpoint-security driver (with deliberate content-handling bugs)");
MODULE_VERSION(SAC_VERSION);
