# bash completion for virtdeny(1)                                -*- shell-script -*-
# Installed as /usr/share/bash-completion/completions/virtdeny.

_virtdeny()
{
    local cur prev words cword
    if declare -F _init_completion >/dev/null 2>&1; then
        _init_completion || return
    else
        cur="${COMP_WORDS[COMP_CWORD]}"
        prev="${COMP_WORDS[COMP_CWORD-1]}"
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
    fi

    local commands="explain suggest follow replay rules help"
    local options="--help -h --version --format -f --color --no-progress --libvirt-xml --connect --domain --rules
        --rules-replace --since --until --threads --year --out --dry-run --cil --policy --virt-aa-helper --baseline
        --write-baseline --junit --journal --journal-file --journal-dir --state --file --from-start --poll --audisp
        --netlink"

    case "$prev" in
        --format|-f)
            COMPREPLY=($(compgen -W "text json markdown" -- "$cur"))
            return ;;
        --color)
            COMPREPLY=($(compgen -W "auto always never" -- "$cur"))
            return ;;
        --libvirt-xml|--baseline|--write-baseline|--junit|--file|--policy|--virt-aa-helper|--journal-file|--state)
            COMPREPLY=($(compgen -f -- "$cur"))
            compopt -o filenames 2>/dev/null
            return ;;
        --rules|--out|--journal-dir)
            COMPREPLY=($(compgen -d -- "$cur"))
            compopt -o filenames 2>/dev/null
            return ;;
        --connect)
            COMPREPLY=($(compgen -W "none qemu:///system qemu:///session" -- "$cur"))
            return ;;
        --domain|--since|--until|--threads|--year)
            return ;;
    esac

    # The command is the first word that is neither an option nor an option's value.
    local i command="" nwords=0
    for ((i = 1; i < cword; i++)); do
        case "${words[i]}" in
            --format|-f|--color|--libvirt-xml|--connect|--domain|--rules|--since|--until|--threads|--year|--out|\
            --policy|--virt-aa-helper|--baseline|--write-baseline|--junit|--file|--journal-file|--journal-dir|--state)
                ((i++)) ;;
            -*) ;;
            *)
                if [[ -z $command ]]; then
                    command="${words[i]}"
                else
                    ((nwords++))
                fi ;;
        esac
    done

    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$options" -- "$cur"))
        return
    fi
    case "$command" in
        "")
            COMPREPLY=($(compgen -W "$commands" -- "$cur")) ;;
        help)
            [[ $nwords -eq 0 ]] && COMPREPLY=($(compgen -W "$commands" -- "$cur")) ;;
        rules)
            if [[ $nwords -eq 0 ]]; then
                COMPREPLY=($(compgen -W "list show validate schema" -- "$cur"))
            elif [[ $nwords -eq 1 && $prev == validate ]]; then
                COMPREPLY=($(compgen -d -- "$cur"))
                compopt -o filenames 2>/dev/null
            elif [[ $nwords -eq 1 && $prev == show ]]; then
                COMPREPLY=($(compgen -W "$("${words[0]}" rules list 2>/dev/null | awk 'NR > 1 {print $1}')" -- "$cur"))
            fi ;;
        *)
            COMPREPLY=($(compgen -f -- "$cur"))
            compopt -o filenames 2>/dev/null ;;
    esac
}
complete -F _virtdeny virtdeny
