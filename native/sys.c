/*
 * The few POSIX calls Node's fs module lacks and a faithful backup needs:
 * extended attributes (l*xattr), hole discovery (lseek SEEK_DATA/SEEK_HOLE),
 * device nodes and FIFOs (mknod, mkfifo), nanosecond timestamps without
 * following symlinks (utimensat) and the state directory's locks (flock). Every call is a single short syscall, so
 * they are synchronous; bulk file data stays on Node's async fs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <unistd.h>

#define PATH_BUF 4096
#define NAME_BUF 256

static napi_value throw_errno(napi_env env, int err, const char *syscall, const char *path) {
  napi_value msg, code, e, v;
  char text[PATH_BUF + 128];
  const char *name = NULL;
  switch (err) {
    case ENOENT: name = "ENOENT"; break;
    case EACCES: name = "EACCES"; break;
    case EPERM: name = "EPERM"; break;
    case ENOTSUP: name = "ENOTSUP"; break;
    case ENODATA: name = "ENODATA"; break;
    case ENXIO: name = "ENXIO"; break;
    case EEXIST: name = "EEXIST"; break;
    case ENOSPC: name = "ENOSPC"; break;
    case EDQUOT: name = "EDQUOT"; break;
    case ERANGE: name = "ERANGE"; break;
    case E2BIG: name = "E2BIG"; break;
    case EINVAL: name = "EINVAL"; break;
    case EROFS: name = "EROFS"; break;
    case ENOTDIR: name = "ENOTDIR"; break;
    case ELOOP: name = "ELOOP"; break;
    default: name = "EIO"; break;
  }
  snprintf(text, sizeof text, "%s: %s, %s '%s'", name, strerror(err), syscall, path ? path : "");
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg);
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_create_error(env, code, msg, &e);
  napi_create_int32(env, -err, &v);
  napi_set_named_property(env, e, "errno", v);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, e, "syscall", v);
  if (path) {
    napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &v);
    napi_set_named_property(env, e, "path", v);
  }
  napi_throw(env, e);
  return NULL;
}

/* A path is a string (UTF-8) or a Buffer of its exact octets: a file name
 * need not be UTF-8, and such a name reaches here as the octets it has. */
static int get_path(napi_env env, napi_value v, char *buf, size_t len) {
  size_t got = 0;
  bool is_buffer = false;
  if (napi_is_buffer(env, v, &is_buffer) == napi_ok && is_buffer) {
    void *data = NULL;
    if (napi_get_buffer_info(env, v, &data, &got) != napi_ok || got >= len - 1) {
      napi_throw_type_error(env, NULL, "path must be shorter than 4096 bytes");
      return -1;
    }
    if (memchr(data, 0, got) != NULL) {
      napi_throw_type_error(env, NULL, "path must not contain a NUL byte");
      return -1;
    }
    memcpy(buf, data, got);
    buf[got] = 0;
    return 0;
  }
  if (napi_get_value_string_utf8(env, v, buf, len, &got) != napi_ok || got >= len - 1) {
    napi_throw_type_error(env, NULL, "path must be a string or Buffer shorter than 4096 bytes");
    return -1;
  }
  return 0;
}

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < want) {
    napi_throw_type_error(env, NULL, "missing arguments");
    return -1;
  }
  return 0;
}

/* llistxattr(path) -> string[] */
static napi_value list_xattr(napi_env env, napi_callback_info info) {
  napi_value argv[1], arr, s;
  char path[PATH_BUF];
  if (get_args(env, info, 1, argv) || get_path(env, argv[0], path, sizeof path)) return NULL;
  ssize_t n;
  char *buf = NULL;
  for (;;) {
    n = llistxattr(path, NULL, 0);
    if (n < 0) {
      if (errno == ENOTSUP) { napi_create_array(env, &arr); return arr; }
      return throw_errno(env, errno, "llistxattr", path);
    }
    if (n == 0) { napi_create_array(env, &arr); return arr; }
    buf = malloc((size_t)n);
    if (!buf) return throw_errno(env, ENOMEM, "llistxattr", path);
    ssize_t m = llistxattr(path, buf, (size_t)n);
    if (m >= 0) { n = m; break; }
    free(buf);
    if (errno != ERANGE) return throw_errno(env, errno, "llistxattr", path);
  }
  napi_create_array(env, &arr);
  uint32_t i = 0;
  for (ssize_t off = 0; off < n;) {
    size_t len = strnlen(buf + off, (size_t)(n - off));
    napi_create_string_utf8(env, buf + off, len, &s);
    napi_set_element(env, arr, i++, s);
    off += (ssize_t)len + 1;
  }
  free(buf);
  return arr;
}

/* lgetxattr(path, name) -> Buffer */
static napi_value get_xattr(napi_env env, napi_callback_info info) {
  napi_value argv[2], out;
  char path[PATH_BUF], name[NAME_BUF];
  if (get_args(env, info, 2, argv) || get_path(env, argv[0], path, sizeof path) ||
      get_path(env, argv[1], name, sizeof name)) return NULL;
  for (;;) {
    ssize_t n = lgetxattr(path, name, NULL, 0);
    if (n < 0) return throw_errno(env, errno, "lgetxattr", path);
    void *data;
    napi_create_buffer(env, (size_t)n, &data, &out);
    if (n == 0) return out;
    ssize_t m = lgetxattr(path, name, data, (size_t)n);
    if (m == n) return out;
    if (m >= 0) { /* shrank between the two calls */
      napi_value sliced;
      void *d2;
      napi_create_buffer_copy(env, (size_t)m, data, &d2, &sliced);
      return sliced;
    }
    if (errno != ERANGE) return throw_errno(env, errno, "lgetxattr", path);
  }
}

/* lsetxattr(path, name, buffer) */
static napi_value set_xattr(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  char path[PATH_BUF], name[NAME_BUF];
  void *data;
  size_t len;
  if (get_args(env, info, 3, argv) || get_path(env, argv[0], path, sizeof path) ||
      get_path(env, argv[1], name, sizeof name)) return NULL;
  if (napi_get_buffer_info(env, argv[2], &data, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "value must be a Buffer");
    return NULL;
  }
  if (lsetxattr(path, name, data, len, 0) != 0) return throw_errno(env, errno, "lsetxattr", path);
  return NULL;
}

/* seek(fd, offset, whence: 0 data / 1 hole) -> offset, or -1 when past the last data (ENXIO) */
static napi_value seek(napi_env env, napi_callback_info info) {
  napi_value argv[3], out;
  int32_t fd, which;
  int64_t off;
  if (get_args(env, info, 3, argv)) return NULL;
  napi_get_value_int32(env, argv[0], &fd);
  napi_get_value_int64(env, argv[1], &off);
  napi_get_value_int32(env, argv[2], &which);
  off_t r = lseek(fd, (off_t)off, which == 0 ? SEEK_DATA : SEEK_HOLE);
  if (r < 0) {
    if (errno == ENXIO) r = -1;
    else return throw_errno(env, errno, which == 0 ? "lseek(SEEK_DATA)" : "lseek(SEEK_HOLE)", NULL);
  }
  napi_create_int64(env, (int64_t)r, &out);
  return out;
}

/* mknod(path, mode, major, minor); mode carries the file type bits */
static napi_value do_mknod(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  char path[PATH_BUF];
  uint32_t mode, maj, min;
  if (get_args(env, info, 4, argv) || get_path(env, argv[0], path, sizeof path)) return NULL;
  napi_get_value_uint32(env, argv[1], &mode);
  napi_get_value_uint32(env, argv[2], &maj);
  napi_get_value_uint32(env, argv[3], &min);
  if (mknod(path, (mode_t)mode, makedev(maj, min)) != 0) return throw_errno(env, errno, "mknod", path);
  return NULL;
}

/* mkfifo(path, mode) */
static napi_value do_mkfifo(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  char path[PATH_BUF];
  uint32_t mode;
  if (get_args(env, info, 2, argv) || get_path(env, argv[0], path, sizeof path)) return NULL;
  napi_get_value_uint32(env, argv[1], &mode);
  if (mkfifo(path, (mode_t)mode) != 0) return throw_errno(env, errno, "mkfifo", path);
  return NULL;
}

/* lutimens(path, atimeSec, atimeNsec, mtimeSec, mtimeNsec): never follows a symlink */
static napi_value lutimens(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  char path[PATH_BUF];
  int64_t as, ms;
  int32_t an, mn;
  if (get_args(env, info, 5, argv) || get_path(env, argv[0], path, sizeof path)) return NULL;
  napi_get_value_int64(env, argv[1], &as);
  napi_get_value_int32(env, argv[2], &an);
  napi_get_value_int64(env, argv[3], &ms);
  napi_get_value_int32(env, argv[4], &mn);
  struct timespec ts[2] = {{(time_t)as, an}, {(time_t)ms, mn}};
  if (utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) != 0)
    return throw_errno(env, errno, "utimensat", path);
  return NULL;
}

/* major/minor of a dev_t given as a number (st_rdev) */
static napi_value dev_split(napi_env env, napi_callback_info info) {
  napi_value argv[1], arr, v;
  int64_t dev;
  if (get_args(env, info, 1, argv)) return NULL;
  napi_get_value_int64(env, argv[0], &dev);
  napi_create_array_with_length(env, 2, &arr);
  napi_create_uint32(env, major((dev_t)dev), &v);
  napi_set_element(env, arr, 0, v);
  napi_create_uint32(env, minor((dev_t)dev), &v);
  napi_set_element(env, arr, 1, v);
  return arr;
}

/* pipeSize(fd, bytes) -> the new capacity, or -1 when fd is not a pipe. A 64 KiB pipe
 * makes the two ends of a pipeline take turns; a larger one lets them overlap. */
static napi_value pipe_size(napi_env env, napi_callback_info info) {
  napi_value argv[2], out;
  int32_t fd, size;
  if (get_args(env, info, 2, argv)) return NULL;
  napi_get_value_int32(env, argv[0], &fd);
  napi_get_value_int32(env, argv[1], &size);
  int r = fcntl(fd, F_SETPIPE_SZ, size);
  napi_create_int32(env, r < 0 ? -1 : r, &out);
  return out;
}

/* tryLock(fd) -> true when this process now holds an exclusive flock on fd, false when
 * another open file description holds one. The kernel drops the lock when the holder's
 * descriptor closes, kill -9 included, so a dead run's lock file never blocks. */
static napi_value try_lock(napi_env env, napi_callback_info info) {
  napi_value argv[1], out;
  int32_t fd;
  if (get_args(env, info, 1, argv)) return NULL;
  napi_get_value_int32(env, argv[0], &fd);
  int r;
  do r = flock(fd, LOCK_EX | LOCK_NB); while (r != 0 && errno == EINTR);
  if (r != 0 && errno != EWOULDBLOCK) return throw_errno(env, errno, "flock", NULL);
  napi_get_boolean(env, r == 0, &out);
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"listXattr", NULL, list_xattr, NULL, NULL, NULL, napi_default, NULL},
    {"getXattr", NULL, get_xattr, NULL, NULL, NULL, napi_default, NULL},
    {"setXattr", NULL, set_xattr, NULL, NULL, NULL, napi_default, NULL},
    {"seek", NULL, seek, NULL, NULL, NULL, napi_default, NULL},
    {"mknod", NULL, do_mknod, NULL, NULL, NULL, napi_default, NULL},
    {"mkfifo", NULL, do_mkfifo, NULL, NULL, NULL, napi_default, NULL},
    {"lutimens", NULL, lutimens, NULL, NULL, NULL, napi_default, NULL},
    {"devSplit", NULL, dev_split, NULL, NULL, NULL, napi_default, NULL},
    {"pipeSize", NULL, pipe_size, NULL, NULL, NULL, napi_default, NULL},
    {"tryLock", NULL, try_lock, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
