# BCL_CHECK_CFLAG(FLAG, [ACTION-IF-OK], [ACTION-IF-NOT])
# ------------------------------------------------------
# Whether the C compiler takes FLAG: compiles an empty program with
# "-Werror FLAG" on top of CFLAGS. The -Werror is there because clang only
# warns about a warning option it does not know (gcc refuses it), so without
# it every flag would pass with clang. Results are cached per compiler and
# flag (bcl_cv_cflag_<flag>). The project's own equivalent of
# autoconf-archive's AX_CHECK_COMPILE_FLAG, so that building from git needs
# no extra package.
AC_DEFUN([BCL_CHECK_CFLAG],
[AC_REQUIRE([AC_PROG_CC])dnl
AS_VAR_PUSHDEF([bcl_cache], [bcl_cv_cflag_$1])dnl
AC_CACHE_CHECK([whether $CC accepts $1], [bcl_cache],
  [bcl_save_cflags=$CFLAGS
   CFLAGS="$CFLAGS -Werror $1"
   AC_LANG_PUSH([C])
   AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])],
     [AS_VAR_SET([bcl_cache], [yes])], [AS_VAR_SET([bcl_cache], [no])])
   AC_LANG_POP([C])
   CFLAGS=$bcl_save_cflags])
AS_VAR_IF([bcl_cache], [yes], [$2], [$3])
AS_VAR_POPDEF([bcl_cache])dnl
])
