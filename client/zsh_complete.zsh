# zsh -f zsh_complete.zsh FPATH_DIR LINE: an interactive zsh in a
# pseudo-terminal (zpty) loads the completion functions of FPATH_DIR, types
# LINE and TAB as a user would, then prints "BUF:" and the edited line (and
# before it whatever zsh displayed, e.g. an error of _arguments). The
# prompt is spelt so that the typed command never contains it.
zmodload zsh/zpty || exit 3
zpty z 'TERM=dumb zsh -f -i'
zpty -w z "PS1='READ''Y> '; fpath=($1 \$fpath); autoload -U compinit; compinit -u -d $1/dump; pbrx() { :; }"
zpty -r -m z line '*READY> *' || exit 3
zpty -w -n z "$2"$'\t'
sleep 1
zpty -w -n z $'\C-a'"print -r -- BUF:"$'\n'
zpty -r -m z out '*READY> *' || exit 4
print -r -- "$out"
zpty -d z
