"""A local repository holding only the proto files we compile.

Debian's bazel-bootstrap-source ships the REAPI v2 and googleapis protos, but
its directories carry their own BUILD files (for Bazel's own build), which
would split them into packages we cannot use. This rule symlinks just the
.proto files into a fresh repository with our BUILD file. Nothing is fetched.
"""

def _bazel_protos_impl(ctx):
    root = ctx.attr.path
    for proto in ctx.attr.protos:
        src = ctx.path(root + "/" + proto)
        if not src.exists:
            fail("missing %s: install Debian's bazel-bootstrap-source (tools/bootstrap)" % src)
        ctx.symlink(src, proto)
    ctx.symlink(ctx.attr.build_file, "BUILD.bazel")
    ctx.file("WORKSPACE", "workspace(name = \"%s\")\n" % ctx.name)

bazel_protos_repository = repository_rule(
    implementation = _bazel_protos_impl,
    local = True,
    attrs = {
        "path": attr.string(mandatory = True),
        "protos": attr.string_list(mandatory = True),
        "build_file": attr.label(mandatory = True),
    },
)
