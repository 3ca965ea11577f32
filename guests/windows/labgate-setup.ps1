#Requires -Version 5.1
<#
.SYNOPSIS
    Prepares a freshly installed Windows for use as a labgate test guest.

.DESCRIPTION
    Run once, elevated, at the first logon of the image build (autounattend.xml
    starts it from FirstLogonCommands). It leaves the guest in the state labgate
    depends on:

      - OpenSSH Server running at boot, key-only login for the labgate user
        (the transport for every command labgate runs);
      - virtio drivers (network, serial, pvpanic) and qemu-guest-agent from the
        virtio-win media, if present (second transport and heartbeat; pvpanic is
        the crash signal that works without Hyper-V enlightenments, i.e. on TCG);
      - kernel memory dump + minidump, no automatic reboot after a bugcheck, NMI
        bugchecks allowed, dumps never deleted for lack of disk space;
      - EMS on the serial port, so the bugcheck text appears on the console stream;
      - nothing that reboots, repairs, sleeps or updates on its own;
      - a boot counter for labgate's readiness check.

    Then it shuts the machine down (unless -NoShutdown): the end of the install's
    QEMU process is the signal that the image is ready.

    NOT TESTED: written on machines that have no Windows image. See README.md.

.PARAMETER AuthorizedKeysFile
    OpenSSH public key(s) allowed to log in as labgate. Default: authorized_keys
    next to this script.

.PARAMETER DumpType
    Kernel (default): all kernel-mode memory - what a driver crash needs.
    Complete: all physical memory; needs a page file larger than RAM.
    Active: a complete dump without pages that are unlikely to matter
    (FilterPages); smaller than Complete. Minidumps are written in every case.

.PARAMETER NoShutdown
    Leave the machine running at the end (for debugging this script).
#>
[CmdletBinding()]
param(
    [string] $AuthorizedKeysFile = (Join-Path $PSScriptRoot 'authorized_keys'),
    [ValidateSet('Kernel', 'Complete', 'Active')]
    [string] $DumpType = 'Kernel',
    [switch] $NoShutdown
)

# Stop at the first failure: a half-prepared image that boots fine but cannot
# produce dumps or be reached by ssh would turn every later job into a wrong
# verdict, which is worse than an image build that visibly fails.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3

# The script runs from read-only install media, so the log goes to the guest
# disk, where the person building the image can read it afterwards.
$StateDir = Join-Path $env:ProgramData 'labgate'
New-Item -ItemType Directory -Force -Path $StateDir | Out-Null
Start-Transcript -Path (Join-Path $StateDir 'setup.log') -Append | Out-Null

function Write-Step([string] $Message) {
    Write-Host "labgate-setup: $Message"
}

# Native tools (bcdedit, msiexec, pnputil) report failure only through the
# exit code, which $ErrorActionPreference does not see.
function Invoke-Native([string] $File, [string[]] $Arguments, [int[]] $OkCodes = @(0)) {
    $p = Start-Process -FilePath $File -ArgumentList $Arguments -Wait -PassThru -NoNewWindow
    if ($OkCodes -notcontains $p.ExitCode) {
        throw "$File $($Arguments -join ' ') failed with exit code $($p.ExitCode)"
    }
    return $p.ExitCode
}

$principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    throw 'labgate-setup.ps1 must run elevated (as an administrator)'
}

# AMD64 or ARM64. virtio-win names its folders amd64/ARM64 and its MSIs x64/arm64.
$Arch = $env:PROCESSOR_ARCHITECTURE
switch ($Arch) {
    'AMD64' { $DriverArch = 'amd64'; $MsiArch = 'x64'; $GaPatterns = @('qemu-ga-x86_64.msi') }
    # virtio-win has not always shipped an ARM64 guest agent; take whichever name it uses
    'ARM64' { $DriverArch = 'ARM64'; $MsiArch = 'arm64'; $GaPatterns = @('qemu-ga-aarch64.msi', 'qemu-ga-arm64.msi', 'qemu-ga-*arm64*.msi') }
    default { throw "unsupported architecture $Arch" }
}
Write-Step "architecture $Arch"

# ------------------------------------------------------------------ virtio-win
# The virtio-win ISO is recognised by its content, not its drive letter, which
# depends on the order the CD drives were attached in.
$VirtioRoot = Get-PSDrive -PSProvider FileSystem |
    ForEach-Object { $_.Root } |
    Where-Object { Test-Path (Join-Path $_ 'vioserial') } |
    Select-Object -First 1

if ($VirtioRoot) {
    Write-Step "virtio-win media at $VirtioRoot"
    $ToolsMsi = Join-Path $VirtioRoot "virtio-win-gt-$MsiArch.msi"
    if (Test-Path $ToolsMsi) {
        # The guest-tools MSI installs every driver that matches a present
        # device (NetKVM, vioserial, pvpanic, balloon, ...) in one step.
        Write-Step "installing $ToolsMsi"
        Invoke-Native 'msiexec.exe' @('/i', "`"$ToolsMsi`"", '/qn', '/norestart',
            '/l*v', "`"$StateDir\virtio-win-gt.log`"") -OkCodes @(0, 3010) | Out-Null
    } else {
        # Older or trimmed media without the MSI: add the few drivers labgate
        # needs directly. vioserial carries the guest-agent channel, pvpanic
        # the crash signal, NetKVM the ssh transport.
        foreach ($drv in 'NetKVM', 'vioserial', 'pvpanic') {
            $dir = Join-Path $VirtioRoot "$drv\w11\$DriverArch"
            if (Test-Path $dir) {
                Write-Step "pnputil: adding $dir"
                # 259 = nothing to install (no matching device present): not an error
                Invoke-Native 'pnputil.exe' @('/add-driver', "`"$dir\*.inf`"", '/install') -OkCodes @(0, 259, 3010) | Out-Null
            } else {
                Write-Warning "no $drv driver for $DriverArch on the virtio-win media"
            }
        }
    }

    $GaPath = $GaPatterns |
        ForEach-Object { Get-ChildItem -Path (Join-Path $VirtioRoot 'guest-agent') -Filter $_ -ErrorAction SilentlyContinue } |
        Select-Object -First 1 -ExpandProperty FullName
    if ($GaPath) {
        Write-Step "installing qemu-guest-agent from $GaPath"
        Invoke-Native 'msiexec.exe' @('/i', "`"$GaPath`"", '/qn', '/norestart',
            '/l*v', "`"$StateDir\qemu-ga.log`"") -OkCodes @(0, 3010) | Out-Null
        # The MSI registers the service as manual start on some versions; labgate
        # pings it right after boot.
        Set-Service -Name 'QEMU-GA' -StartupType Automatic
    } else {
        # Not fatal: ssh is the primary transport; labgate falls back to it.
        Write-Warning "no qemu-ga MSI for $Arch on the virtio-win media: qemu-guest-agent not installed"
    }
} else {
    Write-Warning 'no virtio-win media found: drivers and qemu-guest-agent not installed'
}

# ------------------------------------------------------------------ OpenSSH
# Add-WindowsCapability fetches the package from Windows Update (or a WSUS /
# FoD source), so the image build needs a network that reaches it. Where it
# cannot, an OpenSSH MSI from github.com/PowerShell/Win32-OpenSSH placed next
# to this script (OpenSSH-Win64*.msi / OpenSSH-ARM64*.msi) is used instead.
$sshd = Get-Service -Name sshd -ErrorAction SilentlyContinue
if (-not $sshd) {
    # NetKVM was only just installed above: give DHCP (QEMU user networking
    # answers within a second or two) time to configure the adapter before
    # asking Windows Update for anything. Bounded: no network is handled below.
    $deadline = (Get-Date).AddSeconds(120)
    while (-not (Get-NetIPAddress -AddressFamily IPv4 -PrefixOrigin Dhcp -ErrorAction SilentlyContinue) -and
           (Get-Date) -lt $deadline) {
        Start-Sleep -Seconds 5
    }
    $cap = Get-WindowsCapability -Online | Where-Object { $_.Name -like 'OpenSSH.Server*' } | Select-Object -First 1
    $installed = $false
    if ($cap) {
        try {
            Write-Step "Add-WindowsCapability $($cap.Name)"
            Add-WindowsCapability -Online -Name $cap.Name | Out-Null
            $installed = $true
        } catch {
            Write-Warning "Add-WindowsCapability failed: $_"
        }
    }
    if (-not $installed) {
        $pattern = if ($Arch -eq 'ARM64') { 'OpenSSH-ARM64*.msi' } else { 'OpenSSH-Win64*.msi' }
        $msi = Get-ChildItem -Path $PSScriptRoot -Filter $pattern -ErrorAction SilentlyContinue | Select-Object -First 1
        if (-not $msi) {
            throw "OpenSSH Server could not be installed: no Windows Update access and no $pattern next to the script"
        }
        Write-Step "installing $($msi.FullName)"
        Invoke-Native 'msiexec.exe' @('/i', "`"$($msi.FullName)`"", '/qn', '/norestart',
            '/l*v', "`"$StateDir\openssh.log`"") -OkCodes @(0, 3010) | Out-Null
    }
}
Set-Service -Name sshd -StartupType Automatic
# The first start generates the host keys and the default sshd_config.
Start-Service -Name sshd

# labgate is in Administrators, and the stock sshd_config sends administrators
# to administrators_authorized_keys instead of ~\.ssh\authorized_keys.
# sshd ignores that file unless only SYSTEM and Administrators can write it.
if (-not (Test-Path $AuthorizedKeysFile)) {
    throw "no public key file $AuthorizedKeysFile: labgate could never log in"
}
$AdminKeys = Join-Path $env:ProgramData 'ssh\administrators_authorized_keys'
# ASCII on purpose: sshd cannot read the UTF-16 that PowerShell 5.1's `>` writes.
# Only key lines are kept, so a stray comment or blank line cannot confuse it.
Get-Content -Path $AuthorizedKeysFile | Where-Object { $_ -match '^\s*(ssh-|ecdsa-|sk-)' } |
    Set-Content -Path $AdminKeys -Encoding Ascii
Invoke-Native 'icacls.exe' @("`"$AdminKeys`"", '/inheritance:r',
    '/grant', '*S-1-5-32-544:F', '/grant', '*S-1-5-18:F') | Out-Null

# Key-only: a test guest reachable with a guessable password on a forwarded
# port is an invitation, and key failures should be loud rather than fall
# through to a password prompt that blocks labgate's non-interactive ssh.
$SshdConfig = Join-Path $env:ProgramData 'ssh\sshd_config'
$cfg = Get-Content -Path $SshdConfig
$cfg = $cfg | Where-Object { $_ -notmatch '^\s*#?\s*PasswordAuthentication\s' }
# Match blocks must stay last in sshd_config, so the setting goes on top.
@('PasswordAuthentication no') + $cfg | Set-Content -Path $SshdConfig -Encoding Ascii
Restart-Service -Name sshd

# With QEMU user networking the guest's network is "unidentified" (Public
# profile); the capability's rule may not cover it.
if (-not (Get-NetFirewallRule -Name 'labgate-sshd' -ErrorAction SilentlyContinue)) {
    New-NetFirewallRule -Name 'labgate-sshd' -DisplayName 'labgate: OpenSSH Server (TCP 22)' `
        -Direction Inbound -Protocol TCP -LocalPort 22 -Action Allow -Profile Any | Out-Null
}

# ------------------------------------------------------------------ crash dumps
$CrashControl = 'HKLM:\SYSTEM\CurrentControlSet\Control\CrashControl'
$dumpValue = @{ Complete = 1; Kernel = 2; Active = 1 }[$DumpType]
Write-Step "crash dumps: $DumpType"
$settings = [ordered]@{
    CrashDumpEnabled = $dumpValue
    # Stay on the blue screen: labgate decides when to reset (after taking its
    # evidence), and an automatic reboot would make a crash look like a reboot.
    AutoReboot       = 0
    # Keep only the latest full dump; every crash job starts from a fresh
    # overlay anyway, and two full dumps could fill a small test disk.
    Overwrite        = 1
    # Windows client SKUs delete dumps when free space is under 25 GB, which a
    # test disk always is; the dump is the evidence, keep it.
    AlwaysKeep       = 1
    LogEvent         = 1
    # virsh inject-nmi then forces a bugcheck (0x80) in a hung guest, turning
    # a HANG into a dump someone can analyse.
    NMICrashDump     = 1
}
foreach ($name in $settings.Keys) {
    Set-ItemProperty -Path $CrashControl -Name $name -Value $settings[$name] -Type DWord
}
# Expandable strings, so they follow %SystemRoot% like Windows' own defaults.
Set-ItemProperty -Path $CrashControl -Name DumpFile -Value '%SystemRoot%\MEMORY.DMP' -Type ExpandString
Set-ItemProperty -Path $CrashControl -Name MinidumpDir -Value '%SystemRoot%\Minidump' -Type ExpandString
if ($DumpType -eq 'Active') {
    # Active = complete dump with FilterPages: leaves out pages of no use.
    Set-ItemProperty -Path $CrashControl -Name FilterPages -Value 1 -Type DWord
} else {
    Remove-ItemProperty -Path $CrashControl -Name FilterPages -ErrorAction SilentlyContinue
}

# The dump is written through the page file on the boot volume. A system-managed
# page file is sized for kernel dumps; a complete dump needs RAM + 257 MB,
# which a system-managed one may not reach on a small disk.
$cs = Get-CimInstance -ClassName Win32_ComputerSystem
if ($DumpType -eq 'Kernel') {
    if (-not $cs.AutomaticManagedPagefile) {
        Set-CimInstance -InputObject $cs -Property @{ AutomaticManagedPagefile = $true }
    }
} else {
    $ramMiB = [int][math]::Ceiling($cs.TotalPhysicalMemory / 1MB)
    $sizeMiB = $ramMiB + 512
    Set-CimInstance -InputObject $cs -Property @{ AutomaticManagedPagefile = $false }
    $pf = Get-CimInstance -ClassName Win32_PageFileSetting | Where-Object { $_.Name -like 'C:*' }
    if (-not $pf) {
        $pf = New-CimInstance -ClassName Win32_PageFileSetting -Property @{ Name = 'C:\pagefile.sys' }
    }
    Set-CimInstance -InputObject $pf -Property @{ InitialSize = [uint32]$sizeMiB; MaximumSize = [uint32]$sizeMiB }
    Write-Step "page file fixed at $sizeMiB MiB for complete dumps"
}

# ------------------------------------------------------------------ BitLocker
# Every labgate job gets a fresh swtpm, so a system disk sealed to the image
# build's TPM would stop every job at the BitLocker recovery screen.
# autounattend.xml prevents automatic device encryption; this catches images
# prepared some other way. Home editions lack the cmdlet (and BitLocker proper).
if (Get-Command -Name Get-BitLockerVolume -ErrorAction SilentlyContinue) {
    $bl = Get-BitLockerVolume -MountPoint $env:SystemDrive
    if ($bl.VolumeStatus -ne 'FullyDecrypted') {
        Write-Step "BitLocker is $($bl.VolumeStatus) on $($env:SystemDrive): decrypting"
        Disable-BitLocker -MountPoint $env:SystemDrive | Out-Null
        # Shutting down mid-decryption would leave the image half encrypted.
        while ((Get-BitLockerVolume -MountPoint $env:SystemDrive).VolumeStatus -ne 'FullyDecrypted') {
            Start-Sleep -Seconds 10
        }
    }
} else {
    Write-Warning 'Get-BitLockerVolume not available: check by hand that the system disk is not encrypted'
}

# ------------------------------------------------------------------ boot configuration
# A driver that crashes at every boot must show up as a boot loop, not be
# "repaired": no automatic WinRE after failed boots, no boot-failure menu.
Invoke-Native 'bcdedit.exe' @('/set', '{current}', 'recoveryenabled', 'No') | Out-Null
Invoke-Native 'bcdedit.exe' @('/set', '{current}', 'bootstatuspolicy', 'IgnoreAllFailures') | Out-Null

# EMS/SAC on the serial console: the bugcheck code and text are printed there,
# where labgate's console scanner reads them even if the guest never comes back.
# On x86 COM1 is the 16550 at 0x3F8 (EMSPORT:1). On ARM64 there is no COM1;
# "BIOS" makes Windows take the port from the firmware's SPCR table, which
# QEMU's virt machine provides for its PL011 UART.
Invoke-Native 'bcdedit.exe' @('/ems', '{current}', 'on') | Out-Null
if ($Arch -eq 'ARM64') {
    Invoke-Native 'bcdedit.exe' @('/emssettings', 'BIOS') | Out-Null
} else {
    Invoke-Native 'bcdedit.exe' @('/emssettings', 'EMSPORT:1', 'EMSBAUDRATE:115200') | Out-Null
}
Invoke-Native 'bcdedit.exe' @('/bootems', '{bootmgr}', 'on') | Out-Null

# ------------------------------------------------------------------ quiet machine
# Anything that reboots, sleeps or blanks the screen on its own corrupts the
# verdict: an update reboot looks like an unexpected reset, sleep looks like a
# hang to the heartbeat, a blank screen makes the screenshot useless evidence.
Invoke-Native 'powercfg.exe' @('/hibernate', 'off') | Out-Null
foreach ($setting in 'standby-timeout-ac', 'monitor-timeout-ac', 'disk-timeout-ac') {
    Invoke-Native 'powercfg.exe' @('/change', $setting, '0') | Out-Null
}
$WuPolicy = 'HKLM:\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate\AU'
New-Item -Path $WuPolicy -Force | Out-Null
Set-ItemProperty -Path $WuPolicy -Name NoAutoUpdate -Value 1 -Type DWord
Set-ItemProperty -Path $WuPolicy -Name NoAutoRebootWithLoggedOnUsers -Value 1 -Type DWord

# ------------------------------------------------------------------ boot counter
# labgate's readiness check (profile <readiness boot-count-command>) needs a
# number that grows by one per boot, exactly as the Linux guest's rcS does.
# A SYSTEM startup task is the earliest hook that does not need a service of
# our own; labgate only waits for the number to exceed the previous one, so it
# does not matter whether sshd or this task comes first.
$Counter = Join-Path $StateDir 'boot-count'
if (-not (Test-Path $Counter)) { Set-Content -Path $Counter -Value '0' -Encoding Ascii }
$increment = "`$f='$Counter'; `$n=[int](Get-Content -Path `$f -TotalCount 1) + 1; Set-Content -Path `$f -Value `$n -Encoding Ascii"
$action = New-ScheduledTaskAction -Execute 'powershell.exe' `
    -Argument "-NoProfile -NonInteractive -ExecutionPolicy Bypass -Command `"$increment`""
$trigger = New-ScheduledTaskTrigger -AtStartup
$taskPrincipal = New-ScheduledTaskPrincipal -UserId 'SYSTEM' -LogonType ServiceAccount -RunLevel Highest
Register-ScheduledTask -TaskName 'labgate-boot-count' -Action $action -Trigger $trigger `
    -Principal $taskPrincipal -Force | Out-Null

Write-Step 'done'
Stop-Transcript | Out-Null

if (-not $NoShutdown) {
    # Shut down rather than reboot: the image is finished, and the build
    # tool waits for QEMU to exit. The delay lets the transcript reach disk.
    Invoke-Native 'shutdown.exe' @('/s', '/t', '10', '/c', '"labgate setup finished"') | Out-Null
}
