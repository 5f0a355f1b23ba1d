# bash completion for kstall: its commands, each command's options (as `kstall COMMAND --help` prints
# them), and files for VMCORE, VMLINUX and the options that take a file or a directory.
# Installed as share/bash-completion/completions/kstall; analyzer/tests/check_manpage.py checks it
# offers every option of the help.

_kstall()
{
	local cur prev words cword
	if declare -F _init_completion >/dev/null; then
		_init_completion || return
	else
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD-1]}
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
	fi

	local commands="report sys ps bt log mod triage"
	local command="" i
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		report | sys | ps | bt | log | mod | triage)
			command=${words[i]}
			break
			;;
		esac
	done

	# The argument of an option.
	case $prev in
	--html | --index | --vmlinux)
		_kstall_files
		return
		;;
	--debug-dir)
		_kstall_files -d
		return
		;;
	--state | -j | --jobs | --timeout | --similar)
		return
		;;
	esac

	local opts
	case $command in
	report) opts="--json --html --force --help" ;;
	sys) opts="--json --force --help" ;;
	ps) opts="--json --state --force --help" ;;
	bt) opts="-a -A -v --json --force --help" ;;
	log) opts="--force --help" ;;
	mod) opts="--json --force --help" ;;
	triage) opts="-j --jobs --json --wide --index --vmlinux --debug-dir --timeout --similar --help" ;;
	*) opts="--json --html --force --help --version" ;;
	esac

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		return
	fi
	# The first word: a command, or straight away the files of a report.
	if [[ -z $command && $cword -eq 1 ]]; then
		COMPREPLY=($(compgen -W "$commands" -- "$cur"))
	fi
	# VMCORE, VMLINUX (and MODULE.ko), or triage's PATHs: files and directories.
	_kstall_files
}

# Files (or with -d, directories) matching $cur, added to COMPREPLY.
_kstall_files()
{
	if declare -F _filedir >/dev/null; then
		_filedir "$@"
		return
	fi
	compopt -o filenames 2>/dev/null
	if [[ ${1:-} == -d ]]; then
		COMPREPLY+=($(compgen -d -- "$cur"))
	else
		COMPREPLY+=($(compgen -f -- "$cur"))
	fi
}

complete -F _kstall kstall
