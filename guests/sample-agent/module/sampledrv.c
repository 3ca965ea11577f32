// SPDX-License-Identifier: GPL-2.0
/*
 * sampledrv: the kernel half of labgate's sample endpoint-security agent.
 *
 * The agent daemon feeds "channel files" (.sac content) into the driver by
 * writing them to /proc/sampledrv/content; the driver parses them into its
 * active rule set, reported by /proc/sampledrv/status.
 *
 * Content format (text, one record per line):
 *
 *     SAC1                                    magic, first non-comment line
 *     # comment                               comments and blank lines are ignored
 *     rule <id> fields=<declared> <f1>|<f2>|...|<fn>
 *
 * THIS DRIVER HAS A DELIBERATE BUG. It is the failure class labgate exists to
 * catch (the July 2024 channel-file incident): the record interpreter trusts
 * the field count the record *declares* instead of the number of fields it
 * *carries*. A record that declares more fields than it carries makes
 * sampledrv_parse_record() read past the end of its field array and
 * dereference a NULL (or unmapped) pointer, and the kernel crashes, every time
 * the content is loaded, including at every boot. Well-formed content
 * (declared == carried) works fine, so content unit tests that only exercise
 * good files pass. Do not "fix" it: the end-to-end tests depend on it.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/proc_fs.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#define SAC_VERSION		"1.0"
#define SAC_MAGIC		"SAC1"
#define SAC_MAX_CONTENT		(64 * 1024)	/* one channel file */
#define SAC_MAX_DECLARED	4096
#define SAC_MAX_ID		63
#define SAC_MAX_FIELD		255

struct sac_record {
	struct list_head node;
	char id[SAC_MAX_ID + 1];
	unsigned int nfields;
	u32 digest;
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
	struct mutex lock;
};

static DEFINE_MUTEX(sac_active_lock);
static LIST_HEAD(sac_active);		/* the active rule set */
static unsigned int sac_active_count;
static unsigned int sac_files_loaded;
static unsigned int sac_files_rejected;
static struct proc_dir_entry *sac_proc_dir;

static void sac_free_records(struct list_head *records)
{
	struct sac_record *rec, *tmp;

	list_for_each_entry_safe(rec, tmp, records, node) {
		list_del(&rec->node);
		kfree(rec);
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
	if (!strncmp(line, "rule", 4) && (line[4] == ' ' || line[4] == '\t'))
		return sac_parse_rule(s, line + 5);
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

/* Commit a complete, valid channel file: its rules replace those with the same id. */
static void sac_commit(struct sac_session *s)
{
	struct sac_record *rec, *tmp, *old, *old_tmp;

	mutex_lock(&sac_active_lock);
	list_for_each_entry_safe(rec, tmp, &s->records, node) {
		list_for_each_entry_safe(old, old_tmp, &sac_active, node) {
			if (!strcmp(old->id, rec->id)) {
				list_del(&old->node);
				kfree(old);
				sac_active_count--;
			}
		}
		list_move_tail(&rec->node, &sac_active);
		sac_active_count++;
	}
	sac_files_loaded++;
	pr_info("loaded channel file: %u records (active set: %u records)\n",
		s->nrecords, sac_active_count);
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

static int __init sampledrv_init(void)
{
	sac_proc_dir = proc_mkdir("sampledrv", NULL);
	if (!sac_proc_dir)
		return -ENOMEM;
	if (!proc_create("content", 0200, sac_proc_dir, &sac_content_ops) ||
	    !proc_create("status", 0444, sac_proc_dir, &sac_status_ops)) {
		proc_remove(sac_proc_dir);
		return -ENOMEM;
	}
	pr_info("sample endpoint driver %s loaded\n", SAC_VERSION);
	return 0;
}

static void __exit sampledrv_exit(void)
{
	proc_remove(sac_proc_dir);
	sac_free_records(&sac_active);
	pr_info("unloaded\n");
}

module_init(sampledrv_init);
module_exit(sampledrv_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("labgate sample endpoint-security driver (with a deliberate content-parser bug)");
MODULE_VERSION(SAC_VERSION);
