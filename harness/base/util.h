/* Small file-system and hashing helpers (libc, and GLib where it is shorter). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* FNV-1a 64: stable ids and seeds derived from names, identical on every machine. */
uint64_t lg_hash64(const void *data, size_t len, uint64_t seed);
uint64_t lg_hash64_str(const char *s, uint64_t seed);

/* mkdir -p with mode for created components; -ENOTDIR when a file is in
 * the way. */
int lg_mkdir_p(const char *path, unsigned mode);
/* fopen(path, "wb") that follows no symlink at path (O_NOFOLLOW): for the
 * files a run streams into its results directory (console logs, fetched
 * files), whose names are predictable.  NULL with errno set. */
FILE *lg_fopen_write_nofollow(const char *path);
/* Reads a whole file (NUL-terminated); caps at max_len. */
int lg_read_file(const char *path, size_t max_len, char **out, size_t *out_len);
/* Atomically, through a private temporary file (never a predictable name). */
int lg_write_file(const char *path, const char *data, size_t len);
/* The same, and durable: the file is fsync'd before the rename and its
 * directory after, so a crash or power loss leaves the old file (or none)
 * or the complete new one, never a part of it. */
int lg_write_file_durable(const char *path, const char *data, size_t len);
/* Opens the absolute directory path (O_DIRECTORY) following no symlink in
 * any of its components; the fd, or -errno with the message set (-ENOTDIR
 * for a symlink on the way). */
int lg_open_dir_nofollow(const char *path);
bool lg_is_dir(const char *path);
bool lg_is_file(const char *path);
/* dir of path resolved against base_dir when relative; returns a new string
 * (never NULL). */
char *lg_path_join(const char *base_dir, const char *rel);
/* Directory part of a path ("." when none); a new string, never NULL. */
char *lg_path_dirname(const char *path);
/* Is every directory above path searchable, and path readable, by "other"?
 * QEMU under qemu:///system runs as an unprivileged user and needs that. */
bool lg_path_world_readable(const char *path, char **blocking_dir);
/* Room to write on the file system holding path (or fd): the space an
 * unprivileged writer may use, less LG_FS_RESERVE_BYTES (0 when below it),
 * so a big file never fills the disk the results and other jobs share. */
#define LG_FS_RESERVE_BYTES (64ULL << 20)
int lg_fs_room(const char *path, uint64_t *room);
int lg_fs_room_fd(int fd, uint64_t *room);
/* Removes a directory tree (best effort). */
int lg_remove_tree(const char *path);

/* A whole decimal int: optional blanks around it (command output ends in a
 * newline), nothing else.  0, or -EINVAL for anything else, out of range
 * included; *out untouched then.  Instead of atoi, which reads "12abc" as 12
 * and garbage as 0. */
int lg_parse_int(const char *s, int *out);
/* The next blank-separated word at *cursor: sets *word to its start and
 * returns its length (0 when only blanks are left), moving *cursor past it.
 * Instead of sscanf's %s, whose buffer sizes live in the format string. */
size_t lg_next_word(const char **cursor, const char **word);
