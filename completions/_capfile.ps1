
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'capfile' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'capfile'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'capfile' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use from the config file [default: default]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from the config file [default: default]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to read and edit instead of the default location')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on standard error (a non-empty NO_COLOR means never, unless --color always)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print results only: no progress, no summary, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print results only: no progress, no summary, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('upload', 'upload', [CompletionResultType]::ParameterValue, 'Upload images to the file service')
            [CompletionResult]::new('login', 'login', [CompletionResultType]::ParameterValue, 'Save credentials for a profile (secret in the OS keyring)')
            [CompletionResult]::new('logout', 'logout', [CompletionResultType]::ParameterValue, 'Remove the profile''s saved secret (its settings stay)')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Read and edit settings')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Run the local file service (an emulator of Capillary''s)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('version', 'version', [CompletionResultType]::ParameterValue, 'Print the version, the commit it was built from, the target and the TLS backend')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'capfile;upload' {
            [CompletionResult]::new('--files-from', '--files-from', [CompletionResultType]::ParameterName, 'Also upload the files listed in FILE, one per line (`-`: standard input)')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Remote file name, for a single input (default: the file''s base name)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace to upload into [env: CAPFILE_NAMESPACE] [default: rewards]')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace to upload into [env: CAPFILE_NAMESPACE] [default: rewards]')
            [CompletionResult]::new('--base-url', '--base-url', [CompletionResultType]::ParameterName, 'Base URL of the Capillary API host, e.g. https://eu.api.capillarytech.com [env: CAPFILE_BASE_URL]')
            [CompletionResult]::new('--body', '--body', [CompletionResultType]::ParameterName, 'How the image is sent: a multipart part named `file`, or the raw bytes')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Number of uploads in flight at once [default: 4]')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Number of uploads in flight at once [default: 4]')
            [CompletionResult]::new('--retries', '--retries', [CompletionResultType]::ParameterName, 'Retries for connection errors, timeouts, 408 and 5xx; a 429 waits for the rate limit instead (see --max-rate-wait) [default: 3]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Fail a request that makes no progress for this many seconds [default: 60]')
            [CompletionResult]::new('--rate', '--rate', [CompletionResultType]::ParameterName, 'Send at most N requests per PERIOD, e.g. 100/min or 10/2s: set it to the org''s rate limit and the service never has to answer 429 [env: CAPFILE_RATE]')
            [CompletionResult]::new('--max-rate-wait', '--max-rate-wait', [CompletionResultType]::ParameterName, 'Seconds one upload may wait in all for rate limits (429s) before it fails; 429s do not use up --retries [default: 300]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format on standard output [default: table]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format on standard output [default: table]')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use from the config file [default: default]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from the config file [default: default]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to read and edit instead of the default location')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on standard error (a non-empty NO_COLOR means never, unless --color always)')
            [CompletionResult]::new('-0', '-0', [CompletionResultType]::ParameterName, 'The --files-from list is NUL-separated, as `find -print0` writes it')
            [CompletionResult]::new('--null', '--null', [CompletionResultType]::ParameterName, 'The --files-from list is NUL-separated, as `find -print0` writes it')
            [CompletionResult]::new('--name-from-path', '--name-from-path', [CompletionResultType]::ParameterName, 'Name each file after its path, joined with `_`: en/banner.png -> en_banner.png (with -r, the path below the directory given)')
            [CompletionResult]::new('--placeholder', '--placeholder', [CompletionResultType]::ParameterName, 'Create placeholders: each FILE is a remote name, and no body is sent')
            [CompletionResult]::new('-r', '-r', [CompletionResultType]::ParameterName, 'Upload the image files inside directories, in sorted order')
            [CompletionResult]::new('--recursive', '--recursive', [CompletionResultType]::ParameterName, 'Upload the image files inside directories, in sorted order')
            [CompletionResult]::new('--allow-any-type', '--allow-any-type', [CompletionResultType]::ParameterName, 'Send files that are not recognised as images')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Check inputs and credentials and show what would be sent; send nothing')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the server''s JSON response (same as -o json)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Do not show progress bars or per-file progress lines')
            [CompletionResult]::new('--local', '--local', [CompletionResultType]::ParameterName, 'Upload to the local file service at 127.0.0.1:7878, starting it if needed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print results only: no progress, no summary, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print results only: no progress, no summary, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'capfile;login' {
            [CompletionResult]::new('--base-url', '--base-url', [CompletionResultType]::ParameterName, 'Base URL of the Capillary API host (https, or http to a loopback host)')
            [CompletionResult]::new('--auth', '--auth', [CompletionResultType]::ParameterName, 'Authentication kind')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'Till username (basic auth)')
            [CompletionResult]::new('--client-key', '--client-key', [CompletionResultType]::ParameterName, 'API client key (OAuth)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use from the config file [default: default]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from the config file [default: default]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to read and edit instead of the default location')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on standard error (a non-empty NO_COLOR means never, unless --color always)')
            [CompletionResult]::new('--password-stdin', '--password-stdin', [CompletionResultType]::ParameterName, 'Read the password from standard input (basic auth)')
            [CompletionResult]::new('--client-secret-stdin', '--client-secret-stdin', [CompletionResultType]::ParameterName, 'Read the client secret from standard input (OAuth)')
            [CompletionResult]::new('--insecure-storage', '--insecure-storage', [CompletionResultType]::ParameterName, 'Store the secret in credentials.toml (mode 0600) instead of the OS keyring')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print results only: no progress, no summary, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print results only: no progress, no summary, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'capfile;logout' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use from the config file [default: default]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from the config file [default: default]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to read and edit instead of the default location')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on standard error (a non-empty NO_COLOR means never, unless --color always)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print results only: no progress, no summary, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print results only: no progress, no summary, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'capfile;config' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use from the config file [default: default]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from the config file [default: default]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to read and edit instead of the default location')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on standard error (a non-empty NO_COLOR means never, unless --color always)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print results only: no progress, no summary, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print results only: no progress, no summary, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Show every effective setting and where it came from')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Print the effective value of one setting')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Set a value in the selected profile')
            [CompletionResult]::new('unset', 'unset', [CompletionResultType]::ParameterValue, 'Remove a value from the selected profile')
            [CompletionResult]::new('profiles', 'profiles', [CompletionResultType]::ParameterValue, 'List the profiles in the config file (on a terminal, `*` marks the active one)')
            [CompletionResult]::new('delete-profile', 'delete-profile', [CompletionResultType]::ParameterValue, 'Delete a profile: its settings in the config file and its saved secret')
            [CompletionResult]::new('path', 'path', [CompletionResultType]::ParameterValue, 'Print the config file''s path')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'capfile;config;list' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use from the config file [default: default]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from the config file [default: default]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to read and edit instead of the default location')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on standard error (a non-empty NO_COLOR means never, unless --color always)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print as JSON')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print results only: no progress, no summary, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print results only: no progress, no summary, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'capfile;config;get' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use from the config file [default: default]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from the config file [default: default]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to read and edit instead of the default location')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on standard error (a non-empty NO_COLOR means never, unless --color always)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print results only: no progress, no summary, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print results only: no progress, no summary, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'capfile;config;set' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use from the config file [default: default]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from the config file [default: default]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to read and edit instead of the default location')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on standard error (a non-empty NO_COLOR means never, unless --color always)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print results only: no progress, no summary, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print results only: no progress, no summary, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'capfile;config;unset' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use from the config file [default: default]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from the config file [default: default]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to read and edit instead of the default location')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on standard error (a non-empty NO_COLOR means never, unless --color always)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print results only: no progress, no summary, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print results only: no progress, no summary, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'capfile;config;profiles' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use from the config file [default: default]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from the config file [default: default]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to read and edit instead of the default location')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on standard error (a non-empty NO_COLOR means never, unless --color always)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print results only: no progress, no summary, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print results only: no progress, no summary, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'capfile;config;delete-profile' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use from the config file [default: default]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from the config file [default: default]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to read and edit instead of the default location')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on standard error (a non-empty NO_COLOR means never, unless --color always)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print results only: no progress, no summary, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print results only: no progress, no summary, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'capfile;config;path' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use from the config file [default: default]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from the config file [default: default]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to read and edit instead of the default location')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on standard error (a non-empty NO_COLOR means never, unless --color always)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print results only: no progress, no summary, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print results only: no progress, no summary, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'capfile;config;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Show every effective setting and where it came from')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Print the effective value of one setting')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Set a value in the selected profile')
            [CompletionResult]::new('unset', 'unset', [CompletionResultType]::ParameterValue, 'Remove a value from the selected profile')
            [CompletionResult]::new('profiles', 'profiles', [CompletionResultType]::ParameterValue, 'List the profiles in the config file (on a terminal, `*` marks the active one)')
            [CompletionResult]::new('delete-profile', 'delete-profile', [CompletionResultType]::ParameterValue, 'Delete a profile: its settings in the config file and its saved secret')
            [CompletionResult]::new('path', 'path', [CompletionResultType]::ParameterValue, 'Print the config file''s path')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'capfile;config;help;list' {
            break
        }
        'capfile;config;help;get' {
            break
        }
        'capfile;config;help;set' {
            break
        }
        'capfile;config;help;unset' {
            break
        }
        'capfile;config;help;profiles' {
            break
        }
        'capfile;config;help;delete-profile' {
            break
        }
        'capfile;config;help;path' {
            break
        }
        'capfile;config;help;help' {
            break
        }
        'capfile;serve' {
            [CompletionResult]::new('--addr', '--addr', [CompletionResultType]::ParameterName, 'Address to listen on (port 0 picks a free port); loopback only, unless --public')
            [CompletionResult]::new('--data', '--data', [CompletionResultType]::ParameterName, 'Directory for stored files and versions [default: the platform data dir]')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'Basic-auth username the service accepts')
            [CompletionResult]::new('--client-key', '--client-key', [CompletionResultType]::ParameterName, 'OAuth client key the token endpoint accepts')
            [CompletionResult]::new('--token-ttl', '--token-ttl', [CompletionResultType]::ParameterName, 'Lifetime of OAuth tokens, in seconds')
            [CompletionResult]::new('--url-ttl', '--url-ttl', [CompletionResultType]::ParameterName, 'Lifetime of secure file URLs, in seconds')
            [CompletionResult]::new('--public-url', '--public-url', [CompletionResultType]::ParameterName, 'Base of the secure URLs it hands out [default: http://ADDR]')
            [CompletionResult]::new('--fail-rate', '--fail-rate', [CompletionResultType]::ParameterName, 'Share of uploads answered with --fail-status (0 to 1), for rehearsing retries')
            [CompletionResult]::new('--fail-status', '--fail-status', [CompletionResultType]::ParameterName, 'Status of injected failures')
            [CompletionResult]::new('--retry-after', '--retry-after', [CompletionResultType]::ParameterName, 'Send Retry-After with injected failures, in seconds')
            [CompletionResult]::new('--latency-ms', '--latency-ms', [CompletionResultType]::ParameterName, 'Added latency per request, in milliseconds')
            [CompletionResult]::new('--drop-rate', '--drop-rate', [CompletionResultType]::ParameterName, 'Share of uploads whose connection is dropped mid-body (0 to 1)')
            [CompletionResult]::new('--rate-limit', '--rate-limit', [CompletionResultType]::ParameterName, 'Accept at most N uploads per credential in any rolling PERIOD (e.g. 100/min or 10/2s); answer the others 429')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use from the config file [default: default]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from the config file [default: default]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to read and edit instead of the default location')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on standard error (a non-empty NO_COLOR means never, unless --color always)')
            [CompletionResult]::new('--public', '--public', [CompletionResultType]::ParameterName, 'Allow an --addr that is not loopback: anyone who can reach it can then upload with the default, publicly known credentials')
            [CompletionResult]::new('--rate-limit-retry-after', '--rate-limit-retry-after', [CompletionResultType]::ParameterName, 'Send Retry-After with the 429s of --rate-limit (Capillary sends none)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print results only: no progress, no summary, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print results only: no progress, no summary, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'capfile;completions' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use from the config file [default: default]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from the config file [default: default]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to read and edit instead of the default location')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on standard error (a non-empty NO_COLOR means never, unless --color always)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print results only: no progress, no summary, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print results only: no progress, no summary, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'capfile;version' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use from the config file [default: default]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from the config file [default: default]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to read and edit instead of the default location')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on standard error (a non-empty NO_COLOR means never, unless --color always)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print results only: no progress, no summary, no notes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print results only: no progress, no summary, no notes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is happening (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is happening (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'capfile;help' {
            [CompletionResult]::new('upload', 'upload', [CompletionResultType]::ParameterValue, 'Upload images to the file service')
            [CompletionResult]::new('login', 'login', [CompletionResultType]::ParameterValue, 'Save credentials for a profile (secret in the OS keyring)')
            [CompletionResult]::new('logout', 'logout', [CompletionResultType]::ParameterValue, 'Remove the profile''s saved secret (its settings stay)')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Read and edit settings')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Run the local file service (an emulator of Capillary''s)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('version', 'version', [CompletionResultType]::ParameterValue, 'Print the version, the commit it was built from, the target and the TLS backend')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'capfile;help;upload' {
            break
        }
        'capfile;help;login' {
            break
        }
        'capfile;help;logout' {
            break
        }
        'capfile;help;config' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Show every effective setting and where it came from')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Print the effective value of one setting')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Set a value in the selected profile')
            [CompletionResult]::new('unset', 'unset', [CompletionResultType]::ParameterValue, 'Remove a value from the selected profile')
            [CompletionResult]::new('profiles', 'profiles', [CompletionResultType]::ParameterValue, 'List the profiles in the config file (on a terminal, `*` marks the active one)')
            [CompletionResult]::new('delete-profile', 'delete-profile', [CompletionResultType]::ParameterValue, 'Delete a profile: its settings in the config file and its saved secret')
            [CompletionResult]::new('path', 'path', [CompletionResultType]::ParameterValue, 'Print the config file''s path')
            break
        }
        'capfile;help;config;list' {
            break
        }
        'capfile;help;config;get' {
            break
        }
        'capfile;help;config;set' {
            break
        }
        'capfile;help;config;unset' {
            break
        }
        'capfile;help;config;profiles' {
            break
        }
        'capfile;help;config;delete-profile' {
            break
        }
        'capfile;help;config;path' {
            break
        }
        'capfile;help;serve' {
            break
        }
        'capfile;help;completions' {
            break
        }
        'capfile;help;version' {
            break
        }
        'capfile;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
