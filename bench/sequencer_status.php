<?php
// The query pattern of `php artisan sequencer:status`, as the benchmark's
// "approach users have now": the same statements through PDO, the same
// work in PHP, the output written to stdout. Sequencer itself needs a
// Laravel application; this keeps its data access and its loop and leaves
// out the framework's boot time (so it is, if anything, faster).
//
//   php bench/sequencer_status.php DSN USER PASSWORD failed|pending|completed OPERATIONS_DIR
//
// pending:   reads every completed name, then checks each operation file
//            against that list in a loop (in_array);
// failed:    reads every failed row, newest first, then their error rows
//            (Eloquent's eager loading: one whereIn);
// completed: reads every completed row, newest completion first.

[$_, $dsn, $user, $password, $mode, $dir] = $argv;
$pdo = new PDO($dsn, $user === '-' ? null : $user, $password === '-' ? null : $password,
    [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);

switch ($mode) {
    case 'pending':
        $done = $pdo->query("SELECT name FROM operations WHERE completed_at IS NOT NULL")->fetchAll(PDO::FETCH_COLUMN);
        $done = array_map(fn ($n) => preg_replace('/\.php$/', '', $n), $done);
        $files = glob(rtrim($dir, '/') . '/*.php');
        sort($files);
        $pending = [];
        foreach ($files as $file) {
            $name = basename($file, '.php');
            if (!in_array($name, $done, true)) {
                $pending[] = $name;
            }
        }
        foreach ($pending as $name) {
            echo substr($name, 0, 17), ' ', $name, ".php\n";
        }
        echo 'Total: ', count($pending), " pending operation(s)\n";
        break;

    case 'failed':
        $ops = $pdo->query("SELECT * FROM operations WHERE failed_at IS NOT NULL ORDER BY failed_at DESC")->fetchAll(PDO::FETCH_ASSOC);
        $errors = [];
        foreach (array_chunk(array_column($ops, 'id'), 1000) as $ids) {
            $stmt = $pdo->prepare("SELECT * FROM operation_errors WHERE operation_id IN (" . implode(',', array_fill(0, count($ids), '?')) . ")");
            $stmt->execute($ids);
            foreach ($stmt->fetchAll(PDO::FETCH_ASSOC) as $e) {
                $errors[$e['operation_id']][] = $e;
            }
        }
        foreach ($ops as $op) {
            echo $op['name'], '.php (Failed at: ', $op['failed_at'], ")\n";
            foreach ($errors[$op['id']] ?? [] as $e) {
                echo '| ', $e['exception'], ' | ', substr($e['message'], 0, 200), ' | ', $e['created_at'], " |\n";
            }
        }
        echo 'Total: ', count($ops), " failed operation(s)\n";
        break;

    case 'completed':
        $ops = $pdo->query("SELECT * FROM operations WHERE completed_at IS NOT NULL AND failed_at IS NULL ORDER BY completed_at DESC")->fetchAll(PDO::FETCH_ASSOC);
        foreach ($ops as $op) {
            echo '| ', $op['name'], '.php | ', $op['type'], ' | ', $op['executed_at'], ' | ', $op['completed_at'], " |\n";
        }
        echo 'Total: ', count($ops), " completed operation(s)\n";
        break;

    default:
        fwrite(STDERR, "mode must be failed, pending or completed\n");
        exit(2);
}
