console.log('algolib: CLI under construction');
